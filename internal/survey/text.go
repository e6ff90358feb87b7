package survey

import (
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
// picks its keywords. Languages without a lexicon get sentiment "unknown"
// and no keywords: they are never guessed.
func Analyze(text, language string) Analysis {
	base, _, _ := strings.Cut(strings.ToLower(language), "-")
	lex, ok := lexicons[base]
	if !ok {
		return Analysis{Language: language, Sentiment: Unknown, Keywords: []string{}}
	}
	words := tokens(text)
	var score float64
	for i, w := range words {
		v, ok := lex[w]
		if !ok {
			continue
		}
		for j := max(0, i-3); j < i; j++ {
			switch words[j] {
			case "not", "no", "never", "isn't", "wasn't", "don't", "didn't", "doesn't", "hardly", "nothing", "without", "nor", "cannot", "can't", "won't", "aren't", "weren't":
				v = -v
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

func tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

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
		clean fresh fair glad delighted enjoy enjoyed seamless effortless kind knowledgeable accurate ontime worth valuable favourite favorite`) {
		m[w] = 1
	}
	for _, w := range strings.Fields(`bad poor terrible awful horrible worst hate hated slow late delay delayed broken damaged rude
		unhelpful difficult hard confusing disappointed disappointing disappointment problem problems issue issues wrong missing lost
		refund complaint complain complained angry annoyed annoying frustrated frustrating useless expensive overpriced dirty
		cold waiting waited unacceptable ignored defective faulty cancelled canceled error errors fail failed failure mess sucks
		unfriendly careless incorrect unreliable nightmare scam leaking torn stained crashed crash`) {
		m[w] = -1
	}
	return m
}()
