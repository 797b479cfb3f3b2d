package harness

// ImagePath is an upgrade through images (-kc.upgrade-from on the containers
// and kind providers): the older images still to run, oldest (the running
// one) first, with their versions, and the tested image the last hop reaches.
type ImagePath struct {
	Images, Versions      []string
	Tested, TestedVersion string
}

// From is the running older image's version; "" once the tested one runs.
func (p *ImagePath) From() string {
	if len(p.Versions) == 0 {
		return ""
	}
	return p.Versions[0]
}

// Current is the image serve and the courier run now.
func (p *ImagePath) Current() string {
	if len(p.Images) > 0 {
		return p.Images[0]
	}
	return p.Tested
}

// Next is the image the next hop moves to, and its version: the next on the
// path, at last the tested one.
func (p *ImagePath) Next() (image, version string) {
	if len(p.Images) > 1 {
		return p.Images[1], p.Versions[1]
	}
	return p.Tested, p.TestedVersion
}

// Advance records one hop done.
func (p *ImagePath) Advance() {
	p.Images, p.Versions = p.Images[1:], p.Versions[1:]
}
