package kratosflow

// MessageID is a Kratos UI message id (text/id.go in Kratos): the
// language-independent meaning of a message, which operators cannot reword.
type MessageID int64

// The message ids the specs assert, by what they mean.
const (
	MsgRecoveryEmailSent       MessageID = 1060003
	MsgVerificationSuccess     MessageID = 1080002
	MsgVerificationEmailSent   MessageID = 1080003
	MsgBlocked                 MessageID = 4000001 // a request refused with a reason, e.g. an API flow with a browser's header
	MsgRequired                MessageID = 4000002
	MsgInvalidCredentials      MessageID = 4000006
	MsgDuplicate               MessageID = 4000007
	MsgTOTPWrong               MessageID = 4000008
	MsgPasswordTooSimilar      MessageID = 4000031
	MsgPasswordTooShort        MessageID = 4000032
	MsgPasswordTooLong         MessageID = 4000033
	MsgLoginFlowExpired        MessageID = 4010001
	MsgRegistrationFlowExpired MessageID = 4040001
	MsgSettingsFlowExpired     MessageID = 4050001
	MsgRecoveryCodeBad         MessageID = 4060006 // invalid or already used
	MsgVerificationFlowExpired MessageID = 4070005
	MsgVerificationBad         MessageID = 4070006
)
