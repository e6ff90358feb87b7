package survey

import "strings"

// Words are the fixed texts around a survey (buttons, notices, email),
// translated for the languages cxloop ships. Others fall back to English.
type Words struct {
	Subject, Invite, Reminder, Start, MailFooter string
	Submit, Saved, Thanks, Required, Optional    string
	Answered, Expired, Invalid, Closed           string
	OptOut, OptedOut, NotLikely, VeryLikely      string
	Low, High, Errors, Close                     string
}

var wordsByLang = map[string]Words{
	"en": {
		Subject: "We'd value your opinion", Invite: "Thank you for choosing us. Would you take a minute to tell us how we did?",
		Reminder: "Reminder", Start: "Start the survey", MailFooter: "You received this because you are our customer. The survey link works once.",
		Submit: "Submit", Saved: "Your answers so far are saved. Please finish the questions marked below.", Thanks: "Thank you! Your answers were received.",
		Required: "Please answer this question.", Optional: "optional",
		Answered: "This survey was already answered. Thank you!", Expired: "This survey link has expired.", Invalid: "This survey link is not valid.",
		Closed: "This survey is closed.", OptOut: "Do not send me surveys again", OptedOut: "You will not receive surveys from us again.",
		NotLikely: "Not at all likely", VeryLikely: "Extremely likely", Low: "Low", High: "High", Errors: "Some answers need attention.", Close: "Close",
	},
	"de": {
		Subject: "Ihre Meinung ist uns wichtig", Invite: "Danke, dass Sie sich für uns entschieden haben. Nehmen Sie sich eine Minute, um uns zu sagen, wie wir waren?",
		Reminder: "Erinnerung", Start: "Zur Umfrage", MailFooter: "Sie erhalten diese Nachricht als unser Kunde. Der Link gilt einmal.",
		Submit: "Absenden", Saved: "Ihre bisherigen Antworten sind gespeichert. Bitte beantworten Sie die markierten Fragen.", Thanks: "Vielen Dank! Ihre Antworten sind angekommen.",
		Required: "Bitte beantworten Sie diese Frage.", Optional: "optional",
		Answered: "Diese Umfrage wurde bereits beantwortet. Danke!", Expired: "Dieser Umfragelink ist abgelaufen.", Invalid: "Dieser Umfragelink ist ungültig.",
		Closed: "Diese Umfrage ist geschlossen.", OptOut: "Keine Umfragen mehr senden", OptedOut: "Sie erhalten von uns keine Umfragen mehr.",
		NotLikely: "Überhaupt nicht wahrscheinlich", VeryLikely: "Äußerst wahrscheinlich", Low: "Niedrig", High: "Hoch", Errors: "Einige Antworten fehlen noch.", Close: "Schließen",
	},
	"fr": {
		Subject: "Votre avis compte", Invite: "Merci de nous avoir choisis. Pourriez-vous prendre une minute pour nous dire comment nous avons fait ?",
		Reminder: "Rappel", Start: "Commencer l'enquête", MailFooter: "Vous recevez ce message en tant que client. Le lien ne fonctionne qu'une fois.",
		Submit: "Envoyer", Saved: "Vos réponses sont enregistrées. Merci de compléter les questions indiquées.", Thanks: "Merci ! Vos réponses ont été reçues.",
		Required: "Merci de répondre à cette question.", Optional: "facultatif",
		Answered: "Cette enquête a déjà reçu une réponse. Merci !", Expired: "Ce lien a expiré.", Invalid: "Ce lien n'est pas valide.",
		Closed: "Cette enquête est close.", OptOut: "Ne plus m'envoyer d'enquêtes", OptedOut: "Vous ne recevrez plus d'enquêtes de notre part.",
		NotLikely: "Pas du tout probable", VeryLikely: "Très probable", Low: "Faible", High: "Élevé", Errors: "Certaines réponses manquent.", Close: "Fermer",
	},
	"es": {
		Subject: "Nos importa su opinión", Invite: "Gracias por elegirnos. ¿Nos dedica un minuto para contarnos cómo lo hicimos?",
		Reminder: "Recordatorio", Start: "Empezar la encuesta", MailFooter: "Recibe este mensaje como cliente nuestro. El enlace funciona una vez.",
		Submit: "Enviar", Saved: "Sus respuestas se han guardado. Complete las preguntas marcadas.", Thanks: "¡Gracias! Hemos recibido sus respuestas.",
		Required: "Responda a esta pregunta.", Optional: "opcional",
		Answered: "Esta encuesta ya fue respondida. ¡Gracias!", Expired: "Este enlace ha caducado.", Invalid: "Este enlace no es válido.",
		Closed: "Esta encuesta está cerrada.", OptOut: "No enviarme más encuestas", OptedOut: "No volverá a recibir encuestas nuestras.",
		NotLikely: "Nada probable", VeryLikely: "Muy probable", Low: "Bajo", High: "Alto", Errors: "Faltan algunas respuestas.", Close: "Cerrar",
	},
	"fa": {
		Subject: "نظر شما برای ما ارزشمند است", Invite: "از اینکه ما را انتخاب کردید سپاسگزاریم. یک دقیقه وقت می‌گذارید تا بگویید چطور بودیم؟",
		Reminder: "یادآوری", Start: "شروع نظرسنجی", MailFooter: "این پیام را به عنوان مشتری ما دریافت کرده‌اید. این پیوند یک بار کار می‌کند.",
		Submit: "ارسال", Saved: "پاسخ‌های شما ذخیره شد. لطفاً پرسش‌های مشخص‌شده را کامل کنید.", Thanks: "سپاس! پاسخ‌های شما دریافت شد.",
		Required: "لطفاً به این پرسش پاسخ دهید.", Optional: "اختیاری",
		Answered: "به این نظرسنجی قبلاً پاسخ داده شده است. سپاس!", Expired: "این پیوند نظرسنجی منقضی شده است.", Invalid: "این پیوند نظرسنجی معتبر نیست.",
		Closed: "این نظرسنجی بسته شده است.", OptOut: "دیگر برای من نظرسنجی نفرستید", OptedOut: "دیگر از ما نظرسنجی دریافت نخواهید کرد.",
		NotLikely: "اصلاً محتمل نیست", VeryLikely: "بسیار محتمل", Low: "کم", High: "زیاد", Errors: "برخی پاسخ‌ها کامل نیستند.", Close: "بستن",
	},
	"ar": {
		Subject: "رأيك يهمنا", Invite: "شكرًا لاختيارك لنا. هل تمنحنا دقيقة لتخبرنا كيف كانت تجربتك؟",
		Reminder: "تذكير", Start: "ابدأ الاستبيان", MailFooter: "وصلتك هذه الرسالة لأنك من عملائنا. يعمل الرابط مرة واحدة.",
		Submit: "إرسال", Saved: "تم حفظ إجاباتك. يرجى إكمال الأسئلة المحددة.", Thanks: "شكرًا! تم استلام إجاباتك.",
		Required: "يرجى الإجابة عن هذا السؤال.", Optional: "اختياري",
		Answered: "تمت الإجابة عن هذا الاستبيان مسبقًا. شكرًا!", Expired: "انتهت صلاحية رابط الاستبيان.", Invalid: "رابط الاستبيان غير صالح.",
		Closed: "هذا الاستبيان مغلق.", OptOut: "لا ترسلوا لي استبيانات بعد الآن", OptedOut: "لن تصلك استبيانات منا بعد الآن.",
		NotLikely: "غير محتمل إطلاقًا", VeryLikely: "محتمل جدًا", Low: "منخفض", High: "مرتفع", Errors: "بعض الإجابات تحتاج إلى استكمال.", Close: "إغلاق",
	},
}

// words returns the fixed texts for a language tag, falling back to English.
func words(lang string) Words {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	if w, ok := wordsByLang[base]; ok {
		return w
	}
	return wordsByLang["en"]
}
