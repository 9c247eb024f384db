package zitadel

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TOTP as ZITADEL configures it (RFC 6238): SHA-1, 6 digits, 30 s steps,
// one step of skew either side.
const (
	totpPeriod = 30
	totpSkew   = 1
	totpDigits = 6
)

// totpCode is the RFC 6238 code of secret (base32) at t.
func totpCode(secret string, t time.Time) (string, error) {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(strings.ReplaceAll(secret, " ", ""), "=")))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return hotp(key, uint64(t.Unix()/totpPeriod)), nil
}

// hotp is RFC 4226 with dynamic truncation.
func hotp(key []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", totpDigits, v%1_000_000)
}

// totpValid checks code against the steps around now.
func totpValid(secret, code string, now time.Time) bool {
	for i := -totpSkew; i <= totpSkew; i++ {
		want, err := totpCode(secret, now.Add(time.Duration(i*totpPeriod)*time.Second))
		if err != nil {
			return false
		}
		if hmac.Equal([]byte(want), []byte(code)) {
			return true
		}
	}
	return false
}
