package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// pbkdf2SHA256 is PBKDF2 (RFC 8018) with HMAC-SHA256 for a 32-byte key
// (one block), written out here so that the stored hashes are checked
// against the definition, not against the library that made them.
func pbkdf2SHA256(password, salt []byte, iter int) []byte {
	mac := hmac.New(sha256.New, password)
	mac.Write(salt)
	mac.Write(binary.BigEndian.AppendUint32(nil, 1))
	u := mac.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iter; i++ {
		mac.Reset()
		mac.Write(u)
		u = mac.Sum(u[:0])
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}

// The helper itself agrees with the published PBKDF2-HMAC-SHA256 vectors
// (password "password", salt "salt", 32-byte key).
func TestPBKDF2Vectors(t *testing.T) {
	for iter, want := range map[int]string{
		1:    "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b",
		2:    "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
		4096: "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
	} {
		if got := hex.EncodeToString(pbkdf2SHA256([]byte("password"), []byte("salt"), iter)); got != want {
			t.Errorf("PBKDF2 with %d iterations = %s, want %s", iter, got, want)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	const pw = "correct horse $ battery" // a $ in the password must not confuse the format
	stored, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		t.Fatalf("stored %q: want pbkdf2-sha256$<iterations>$<salt>$<key>", stored)
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 210_000 {
		t.Errorf("iterations %q: want at least 210000 (OWASP's figure for PBKDF2-HMAC-SHA256)", parts[1])
	}
	if len(parts[2]) < 16 {
		t.Errorf("salt %q is short", parts[2])
	}
	if strings.Contains(stored, pw) {
		t.Error("the password is stored in clear")
	}
	want := base64.RawStdEncoding.EncodeToString(pbkdf2SHA256([]byte(pw), []byte(parts[2]), iter))
	if parts[3] != want {
		t.Errorf("key %s, want PBKDF2(password, salt) = %s", parts[3], want)
	}

	if !checkPassword(stored, pw) {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"", "correct horse $ batter", "Correct horse $ battery", pw + " ", "correct horse"} {
		if checkPassword(stored, wrong) {
			t.Errorf("the wrong password %q is accepted", wrong)
		}
	}

	again, err := hashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if again == stored || strings.Split(again, "$")[2] == parts[2] {
		t.Error("two hashes of one password share their salt")
	}
	if !checkPassword(again, pw) {
		t.Error("the second hash does not verify")
	}
}

// A stored hash that is damaged or of another kind verifies nothing (and
// does not panic).
func TestCheckPasswordMalformed(t *testing.T) {
	// A valid hash with few iterations, made here, to damage piece by piece.
	const pw, salt = "a long password", "c2FsdHNhbHQ"
	key := base64.RawStdEncoding.EncodeToString(pbkdf2SHA256([]byte(pw), []byte(salt), 3))
	good := "pbkdf2-sha256$3$" + salt + "$" + key
	if !checkPassword(good, pw) {
		t.Fatalf("a hash made by the definition (%s) is refused", good)
	}
	flipped := []byte(key)
	flipped[0] ^= 1
	for _, stored := range []string{
		"",
		pw,
		"pbkdf2-sha256",
		"pbkdf2-sha256$3$" + salt,
		"pbkdf2-sha256$3$" + salt + "$" + key + "$extra",
		"pbkdf2-sha1$3$" + salt + "$" + key,
		"PBKDF2-SHA256$3$" + salt + "$" + key,
		"pbkdf2-sha256$three$" + salt + "$" + key,
		"pbkdf2-sha256$4$" + salt + "$" + key,
		"pbkdf2-sha256$3$" + salt + "x$" + key,
		"pbkdf2-sha256$3$" + salt + "$" + string(flipped),
		"pbkdf2-sha256$3$" + salt + "$" + key[:len(key)-1],
		"pbkdf2-sha256$3$" + salt + "$",
	} {
		if checkPassword(stored, pw) {
			t.Errorf("checkPassword(%q) accepts the password", stored)
		}
	}
}
