//go:build tools

// Package coredns pins the coredns release that scripts/kubernetes-build.sh builds.
package coredns

import _ "github.com/coredns/coredns"
