package text

import "testing"

// Sentiment as a reader of the feedback would label it, with the reasons
// the lexicon approach gets wrong spelled out.
func TestAnalyzeSentiment(t *testing.T) {
	for _, c := range []struct{ text, lang, sentiment, language string }{
		{"Great service, very friendly staff.", "en", Positive, "en"},
		{"Not good at all.", "en", Negative, "en"},
		// A negation ends with its clause: "not solved" is bad, and so is "very disappointed".
		{"Called twice, the problem is still not solved. Very disappointed.", "en", Negative, "en"},
		{"The tent poles snapped on the first night and nobody answered my email.", "en", Negative, "en"},
		{"Not bad, quite good really.", "en", Positive, "en"},
		{"The issue was resolved quickly.", "en", Neutral, "en"}, // issue −1, resolved +1
		// A customer whose profile says Spanish writes in English: read as English.
		{"The new checkout lost my delivery slot and I had to order again.", "es", Negative, "en"},
		// Spanish text stays unread: never guessed.
		{"El envío llegó tarde y el producto estaba roto.", "es", Unknown, "es"},
		{"Sehr gut, danke!", "de", Unknown, "de"},
		{"Thanks!", "fr", Unknown, "fr"}, // one word is not enough to tell a language
	} {
		a := Analyze(c.text, c.lang)
		if a.Sentiment != c.sentiment || a.Language != c.language {
			t.Errorf("%q (%s): %s in %s (score %v), want %s in %s", c.text, c.lang, a.Sentiment, a.Language, a.Score, c.sentiment, c.language)
		}
	}
	if k := Analyze("Slow delivery. Slow refund, delivery late.", "en").Keywords; len(k) == 0 || k[0] != "delivery" {
		t.Errorf("keywords %v", k)
	}
}
