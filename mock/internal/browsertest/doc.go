// Package browsertest is what the browser tests (build tag browser) share:
// finding Chromium, the one set of flags every test launches it with, and
// a page-serving site that collects the page's JSON report. Without the
// tag the package is empty, so ordinary builds never need Chromium.
package browsertest
