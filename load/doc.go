// Package load will apply vegeta load to whoami and login against a Stack's
// Endpoints, search for the saturation point and return the figures (issue 3).
// It returns data and never asserts.
package load
