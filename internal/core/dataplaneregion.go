package core

// The data plane realises one region (eni serve --dataplane-region): an
// instance launched or started elsewhere would stay pending forever, with
// nothing for a waiter to see. Such launches and starts are refused instead,
// with AWS's code for a request it cannot serve where it is made
// (Unsupported, 400, "The requested configuration is currently not
// supported…", the message AWS gives e.g. for an instance type an
// Availability Zone cannot launch) and a hint of why appended. Tasks
// (eni run-task) likewise. Instances of other regions kept from a run
// without a data plane stay as they are: records, not namespaces.

// checkDataPlaneRegion refuses what the data plane cannot make real in the
// transaction's region.
func (tx *Tx) checkDataPlaneRegion() error {
	if !tx.cfg.DataPlane || tx.cfg.DataPlaneRegion == "" || tx.cfg.DataPlaneRegion == tx.Region {
		return nil
	}
	return errorf(CodeUnsupported, "The requested configuration is currently not supported. Please check the documentation for supported configurations. "+
		"(This server's data plane runs instances in %s only, not in %s: eni serve --dataplane-region.)", tx.cfg.DataPlaneRegion, tx.Region)
}
