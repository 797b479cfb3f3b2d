package kratosflow

import (
	ory "github.com/ory/kratos-client-go"
)

// SettingsPasswordBody is the settings flow's password method submit; csrf is nil on API flows.
func SettingsPasswordBody(password string, csrf *string) ory.UpdateSettingsFlowBody {
	return ory.UpdateSettingsFlowWithPasswordMethodAsUpdateSettingsFlowBody(&ory.UpdateSettingsFlowWithPasswordMethod{
		Method: "password", Password: password, CsrfToken: csrf,
	})
}
