//go:build tools

// Package etcd pins the etcd release that scripts/kubernetes-build.sh builds.
package etcd

import _ "go.etcd.io/etcd/server/v3"
