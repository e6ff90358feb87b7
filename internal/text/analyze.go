package text

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// Sentiment labels of open-text answers.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
	Unknown  = "unknown" // the analyser does not read this language
)

// Analysis is what cxloop reads in an open-text answer.
type Analysis struct {
	Language  string   `json:"language"`
	Sentiment string   `json:"sentiment"`
	Score     float64  `json:"score"`
	Keywords  []string `json:"keywords"`
}

// lexicons are the languages the analyser reads: word → polarity.
var lexicons = map[string]map[string]float64{"en": english}

// Analyze labels a text's sentiment with a word lexicon (negations such as
// "not good" flip a word; intensifiers such as "very" strengthen it) and
// picks its keywords. The text's language is the one given, unless the
// analyser has no lexicon for it and the text itself reads as English (a
// Spanish-speaking customer writing in English): then English. Other
// languages get sentiment "unknown" and no keywords: never guessed.
func Analyze(text, language string) Analysis {
	base, _, _ := strings.Cut(strings.ToLower(language), "-")
	words := tokens(text)
	lex, ok := lexicons[base]
	if !ok && readsEnglish(words) {
		base, lex, ok = "en", english, true
	}
	if !ok {
		return Analysis{Language: language, Sentiment: Unknown, Keywords: []string{}}
	}
	var score float64
	for i, w := range words {
		v, ok := lex[w]
		if !ok {
			continue
		}
		// A negation reaches back at most three words, never past the end
		// of a clause or another word of feeling ("not solved. Very
		// disappointed" stays disappointed).
		for j := i - 1; j >= max(0, i-3); j-- {
			if words[j] == boundary || lex[words[j]] != 0 {
				break
			}
			if negations[words[j]] {
				v = -v
				break
			}
		}
		if i > 0 {
			switch words[i-1] {
			case "very", "really", "extremely", "so", "super", "incredibly", "absolutely", "totally":
				v *= 1.5
			}
		}
		score += v
	}
	a := Analysis{Language: base, Score: round1(score), Keywords: keywords(words, lex)}
	switch {
	case score >= 1:
		a.Sentiment = Positive
	case score <= -1:
		a.Sentiment = Negative
	default:
		a.Sentiment = Neutral
	}
	return a
}

// round1 rounds to one decimal, as scores are reported.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

// boundary is the token that ends a clause (. , ; : ! ?) in tokens' output.
const boundary = "."

// negations flip the word of feeling that follows them.
var negations = map[string]bool{"not": true, "no": true, "never": true, "isn't": true, "wasn't": true, "don't": true, "didn't": true,
	"doesn't": true, "hardly": true, "nothing": true, "without": true, "nor": true, "cannot": true, "can't": true, "won't": true,
	"aren't": true, "weren't": true, "haven't": true, "hasn't": true}

// tokens are the text's lower-case words, with a boundary token where a
// clause ends.
func tokens(text string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '’':
			if r == '’' {
				r = '\''
			}
			b.WriteRune(r)
		case strings.ContainsRune(".,;:!?…", r):
			flush()
			if len(out) > 0 && out[len(out)-1] != boundary {
				out = append(out, boundary)
			}
		default:
			flush()
		}
	}
	flush()
	return out
}

// readsEnglish reports whether a text is English by its common words: at
// least two English function words and at least a quarter of its words.
func readsEnglish(words []string) bool {
	n, common := 0, 0
	for _, w := range words {
		if w == boundary {
			continue
		}
		n++
		if englishCommon[w] {
			common++
		}
	}
	return common >= 2 && common*4 >= n
}

// englishCommon are function words frequent in English and rare as words
// of other languages the customers of a shop write in.
var englishCommon = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and was were is are it this that my i you we they have has had not with for of to on at
		in be been will would could should very but from my me our your their its there what when which who again just still`) {
		m[w] = true
	}
	return m
}()

// keywords are the most frequent content words (not stopwords, not the
// sentiment words themselves), at most five, ties in order of appearance.
func keywords(words []string, lex map[string]float64) []string {
	count := map[string]int{}
	first := map[string]int{}
	for i, w := range words {
		if len([]rune(w)) < 3 || stopwords[w] || lex[w] != 0 || strings.ContainsRune(w, '\'') {
			continue
		}
		if _, ok := first[w]; !ok {
			first[w] = i
		}
		count[w]++
	}
	out := make([]string, 0, len(count))
	for w := range count {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if count[out[i]] != count[out[j]] {
			return count[out[i]] > count[out[j]]
		}
		return first[out[i]] < first[out[j]]
	})
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for are but not you all any can had her was one our out has him his how man new now old see
		two way who boy did its let put say she too use that with have this will your from they know want been good much some time very
		when come here just like long make many more only over such take than them well were what would there their about after again
		also because before being below between both could does doing down during each few further into itself most myself once other
		ought ourselves same should through under until which while whom why yours yourself yourselves really quite just even still
		then these those where able got get gets getting went gone going thing things lot lots bit day days week weeks time times
		every ever never always usually sometimes item items order ordered`) {
		m[w] = true
	}
	return m
}()

// english is a small polarity lexicon for customer feedback.
var english = func() map[string]float64 {
	m := map[string]float64{}
	for _, w := range strings.Fields(`good great excellent amazing awesome fantastic perfect love loved lovely helpful friendly fast quick
		easy smooth happy pleased satisfied recommend recommended wonderful best nice brilliant outstanding superb efficient polite
		professional reliable convenient comfortable quality beautiful impressed impressive thanks thank courteous responsive prompt
		clean fresh fair glad delighted enjoy enjoyed seamless effortless kind knowledgeable accurate ontime worth valuable favourite favorite
		solved resolved fixed sorted`) {
		m[w] = 1
	}
	for _, w := range strings.Fields(`bad poor terrible awful horrible worst hate hated slow late delay delayed broken damaged rude
		unhelpful difficult hard confusing disappointed disappointing disappointment problem problems issue issues wrong missing lost
		refund complaint complain complained angry annoyed annoying frustrated frustrating useless expensive overpriced dirty
		cold waiting waited unacceptable ignored defective faulty cancelled canceled error errors fail failed failure mess sucks
		unfriendly careless incorrect unreliable nightmare scam leaking torn stained crashed crash snapped cracked ripped
		nobody unanswered unresolved apart`) {
		m[w] = -1
	}
	return m
}()

// Clip cuts s to n characters, the last an ellipsis when cut.
func Clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
