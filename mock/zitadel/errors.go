package zitadel

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"

	gen "github.com/idpmock/idpmock/gen/zitadel"
)

// code is a gRPC status code; ZITADEL's errors carry one and both faces
// derive their wire form from it.
type code int32

const (
	codeCanceled           code = 1
	codeUnknown            code = 2
	codeInvalidArgument    code = 3
	codeDeadlineExceeded   code = 4
	codeNotFound           code = 5
	codeAlreadyExists      code = 6
	codePermissionDenied   code = 7
	codeResourceExhausted  code = 8
	codeFailedPrecondition code = 9
	codeAborted            code = 10
	codeOutOfRange         code = 11
	codeUnimplemented      code = 12
	codeInternal           code = 13
	codeUnavailable        code = 14
	codeDataLoss           code = 15
	codeUnauthenticated    code = 16
)

// connectNames are the Connect protocol's string codes.
var connectNames = map[code]connectCode{
	codeCanceled: "canceled", codeUnknown: "unknown", codeInvalidArgument: "invalid_argument",
	codeDeadlineExceeded: "deadline_exceeded", codeNotFound: "not_found", codeAlreadyExists: "already_exists",
	codePermissionDenied: "permission_denied", codeResourceExhausted: "resource_exhausted",
	codeFailedPrecondition: "failed_precondition", codeAborted: "aborted", codeOutOfRange: "out_of_range",
	codeUnimplemented: "unimplemented", codeInternal: "internal", codeUnavailable: "unavailable",
	codeDataLoss: "data_loss", codeUnauthenticated: "unauthenticated",
}

// httpStatus is the HTTP status of a code on both faces: grpc-gateway v2's
// runtime.HTTPStatusFromCode and connect-go's (≥ v1.16) table agree code
// for code (failed_precondition 400, unimplemented 501, canceled 499).
func httpStatus(c code) int {
	switch c {
	case codeCanceled:
		return 499
	case codeInvalidArgument, codeFailedPrecondition, codeOutOfRange:
		return http.StatusBadRequest
	case codeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case codeNotFound:
		return http.StatusNotFound
	case codeAlreadyExists, codeAborted:
		return http.StatusConflict
	case codePermissionDenied:
		return http.StatusForbidden
	case codeUnauthenticated:
		return http.StatusUnauthorized
	case codeResourceExhausted:
		return http.StatusTooManyRequests
	case codeUnimplemented:
		return http.StatusNotImplemented
	case codeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// zerr is a ZITADEL error: a status code, an id such as COMMAND-3M0fs and an
// i18n key, rendered as "<translated key> (<id>)" plus one detail message.
type zerr struct {
	code code
	id   string
	key  string // i18n key, or literal text when plain
	// plain errors (validator and JSON decoding failures) are sent as they
	// are, without id and detail, as ZITADEL does.
	plain bool
	// credentials marks a wrong-password error, detailed as
	// zitadel.v1.CredentialsCheckError with the failed attempts.
	credentials    bool
	failedAttempts int32
	// status overrides the HTTP status (405, 413, 415 from generic layers).
	status int
}

func (e *zerr) Error() string { return e.text() }

func newErr(c code, id, key string) *zerr { return &zerr{code: c, id: id, key: key} }

func plainErr(c code, format string, args ...any) *zerr {
	return &zerr{code: c, key: fmt.Sprintf(format, args...), plain: true}
}

// message is the translated text without the id.
func (e *zerr) message() string {
	if e.plain {
		return e.key
	}
	if t, ok := english[e.key]; ok {
		return t
	}
	return e.key // ZITADEL shows the key itself when a translation is missing
}

func (e *zerr) text() string {
	if e.plain || e.id == "" {
		return e.message()
	}
	return fmt.Sprintf("%s (%s)", e.message(), e.id)
}

// english holds the translations (internal/static/i18n/en.yaml) of the keys
// the mock uses.
var english = map[string]string{
	"Errors.User.NotFound":                        "User could not be found",
	"Errors.User.UserIDMissing":                   "User ID missing",
	"Errors.User.Locked":                          "User is locked",
	"Errors.User.Password.Invalid":                "Password is invalid",
	"Errors.User.Password.NotSet":                 "User has not set a password",
	"Errors.User.Code.NotFound":                   "Code not found",
	"Errors.User.Code.Expired":                    "Code is expired",
	"Errors.User.Code.Invalid":                    "Code is invalid",
	"Errors.User.MFA.OTP.NotReady":                "Multifactor OTP (OneTimePassword) isn't ready",
	"Errors.User.MFA.OTP.InvalidCode":             "Invalid code",
	"Errors.User.MFA.RecoveryCodes.InvalidCode":   "Invalid recovery code provided",
	"Errors.User.MFA.RecoveryCodes.NotReady":      "Recovery codes are not ready for use",
	"Errors.User.WebAuthN.NotFound":               "WebAuthN Token could not be found",
	"Errors.User.WebAuthN.BeginLoginFailed":       "WebAuthN begin login failed",
	"Errors.User.WebAuthN.ErrorOnParseCredential": "Error on parse credential data",
	"Errors.Session.NotExisting":                  "Session does not exist",
	"Errors.Session.Terminated":                   "Session already terminated",
	"Errors.Session.Expired":                      "Session has expired",
	"Errors.Session.Token.Invalid":                "Session Token is invalid",
	"Errors.Session.WebAuthN.NoChallenge":         "Session without WebAuthN challenge",
	"Errors.Intent.NotSucceeded":                  "Intent has not succeeded",
	"Errors.Intent.Expired":                       "Intent has expired",
	"Errors.Intent.InvalidToken":                  "Intent Token is invalid",
	"Errors.Intent.OtherUser":                     "Intent meant for another user",
	"Errors.Query.LimitExceeded":                  "Limit exceeded",
	"Errors.Internal":                             "An internal error occurred",
}

// detail is the binary and JSON form of the error's detail message.
type detail struct {
	typ   string         // zitadel.v1.ErrorDetail or zitadel.v1.CredentialsCheckError
	value []byte         // protobuf wire encoding
	json  map[string]any // protojson fields
}

func (e *zerr) detail() *detail {
	if e.plain || e.id == "" {
		return nil
	}
	msg := e.message()
	d := &detail{typ: "zitadel.v1.ErrorDetail", json: map[string]any{"id": e.id, "message": msg}}
	var b []byte
	b = appendString(b, 1, e.id)
	b = appendString(b, 2, msg)
	if e.credentials {
		d.typ = "zitadel.v1.CredentialsCheckError"
		if e.failedAttempts != 0 {
			b = appendVarint(b, 3, uint64(e.failedAttempts))
			d.json["failedAttempts"] = e.failedAttempts
		}
	}
	d.value = b
	return d
}

// restBody is the grpc-gateway error body (google.rpc.Status in protojson).
func (e *zerr) restBody() (int, gen.Status) {
	c := int32(e.code)
	msg := e.text()
	st := gen.Status{Code: &c}
	if msg != "" {
		st.Message = &msg
	}
	if d := e.detail(); d != nil {
		t := "type.googleapis.com/" + d.typ
		st.Details = &[]gen.Any{{Type: &t, AdditionalProperties: d.json}}
	}
	status := httpStatus(e.code)
	if e.status != 0 {
		status = e.status
	}
	return status, st
}

// connectBody is the Connect protocol's error body.
func (e *zerr) connectBody() (int, connectError) {
	ce := connectError{Code: connectNames[e.code]}
	if ce.Code == "" {
		ce.Code = "unknown"
	}
	if msg := e.text(); msg != "" {
		ce.Message = &msg
	}
	if d := e.detail(); d != nil {
		debug := d.json
		ce.Details = &[]connectErrorDetail{{
			Type:  d.typ,
			Value: base64.RawStdEncoding.EncodeToString(d.value),
			Debug: &debug,
		}}
	}
	status := httpStatus(e.code)
	if e.status != 0 {
		status = e.status
	}
	return status, ce
}

func appendVarint(b []byte, field int, v uint64) []byte {
	b = appendRawVarint(b, uint64(field)<<3)
	return appendRawVarint(b, v)
}

func appendString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	b = appendRawVarint(b, uint64(field)<<3|2)
	b = appendRawVarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendRawVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// Errors the service raises, named after what happened.
var (
	errSessionNotFound = func() *zerr { return newErr(codeNotFound, "QUERY-SFeaa", "Errors.Session.NotExisting") }
	errGetTokenInvalid = func() *zerr { return newErr(codePermissionDenied, "QUERY-dsfr3", "Errors.PermissionDenied") }
	errDelTokenInvalid = func() *zerr { return newErr(codePermissionDenied, "COMMAND-sGr42", "Errors.Session.Token.Invalid") }
	errSessionExpired  = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-Hkl3d", "Errors.Session.Expired") }
	errSessionEnded    = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-Hewfq", "Errors.Session.Terminated") }
	errUserNotFound    = func() *zerr { return newErr(codeNotFound, "QUERY-Dfbg2", "Errors.User.NotFound") }
	errUserNotActive   = func() *zerr { return newErr(codeFailedPrecondition, "SESSION-Gj4ko", "Errors.User.NotActive") }
	errUserChange      = func() *zerr { return plainErr(codeInvalidArgument, "user change not possible") }
	errLimitExceeded   = func() *zerr { return newErr(codeInvalidArgument, "QUERY-4M0fs", "Errors.Query.LimitExceeded") }
	errQueryInvalid    = func(id string) *zerr { return newErr(codeInvalidArgument, id, "List.Query.Invalid") }
	errUserIDMissing   = func(id string) *zerr { return newErr(codeFailedPrecondition, id, "Errors.User.UserIDMissing") }
	errInternal        = func(id string) *zerr { return newErr(codeInternal, id, "Errors.Internal") }
	errPasswordNotSet  = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-WEf3t", "Errors.User.Password.NotSet") }
	errUserLocked      = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-JLK35", "Errors.User.Locked") }
	errOTPNotReady     = func(id string) *zerr { return newErr(codeFailedPrecondition, id, "Errors.User.MFA.OTP.NotReady") }
	errCodeNotFound    = func(id string) *zerr { return newErr(codeFailedPrecondition, id, "Errors.User.Code.NotFound") }
	errCodeExpired     = func() *zerr { return newErr(codeInvalidArgument, "CODE-QvUQ4P", "Errors.User.Code.Expired") }
	errCodeInvalid     = func() *zerr { return newErr(codeInvalidArgument, "CODE-woT0xc", "Errors.User.Code.Invalid") }
	errTOTPInvalid     = func() *zerr { return newErr(codeInvalidArgument, "EVENT-8isk2", "Errors.User.MFA.OTP.InvalidCode") }
	errRecoveryInvalid = func() *zerr {
		return newErr(codeInvalidArgument, "DOMAIN-6uvh0", "Errors.User.MFA.RecoveryCodes.InvalidCode")
	}
	errRecoveryNotReady = func() *zerr {
		return newErr(codeFailedPrecondition, "DOMAIN-17bgk", "Errors.User.MFA.RecoveryCodes.NotReady")
	}
	errNoChallenge = func() *zerr {
		return newErr(codeFailedPrecondition, "COMMAND-Ioqu5", "Errors.Session.WebAuthN.NoChallenge")
	}
	errWebAuthNParse = func() *zerr {
		return newErr(codeInvalidArgument, "WEBAU-sav2d", "Errors.User.WebAuthN.ErrorOnParseCredential")
	}
	errWebAuthNUnknown  = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-Aej7i", "Errors.User.WebAuthN.NotFound") }
	errWebAuthNNoTokens = func() *zerr { return newErr(codeInternal, "WEBAU-4g8sw", "Errors.User.WebAuthN.BeginLoginFailed") }
	errIntentNotOK      = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-Df4bw", "Errors.Intent.NotSucceeded") }
	errIntentExpired    = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-SAf42", "Errors.Intent.Expired") }
	errIntentToken      = func() *zerr { return newErr(codePermissionDenied, "CRYPTO-CRYPTO", "Errors.Intent.InvalidToken") }
	errIntentOtherUser  = func() *zerr { return newErr(codeFailedPrecondition, "COMMAND-O8xk3w", "Errors.Intent.OtherUser") }
)

// errWrongPassword is COMMAND-3M0fs with the attempts counted so far.
func errWrongPassword(failed int32) *zerr {
	e := newErr(codeInvalidArgument, "COMMAND-3M0fs", "Errors.User.Password.Invalid")
	e.credentials, e.failedAttempts = true, failed
	return e
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
