package core

// This file belongs to the Elastic IP work package.

// addressFor returns the Elastic IP associated with the ENI's private IPv4
// address ip, or nil.
func (tx *Tx) addressFor(eniID, ip string) *Address {
	var found *Address
	tx.addresses.Each(func(a *Address) bool {
		if a.ENIID == eniID && a.PrivateIP == ip {
			found = a
			return false
		}
		return true
	})
	return found
}
