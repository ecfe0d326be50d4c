// Package e2e holds end-to-end tests of the real Linux data plane, driven
// only through the EC2 API (and the `eni run-task` command): the server runs
// in-process with a reconcile agent and a dataplane.Plane with a unique
// prefix, and traffic is real TCP/UDP between the namespaces the test made.
// The tests need CAP_NET_ADMIN; without it they skip (and fail under CI=true).
package e2e
