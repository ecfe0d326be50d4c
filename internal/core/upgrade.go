package core

// defaultsVersion counts the kinds of default resources AWS gives an
// account's VPCs that this model has learnt since its first release. A
// store written before one of them existed is brought up to date, once per
// account and region, by the first request that touches it.
//
//  1. every VPC's default network ACL
const defaultsVersion = 1

// upgradeDefaults gives the caller's existing resources the defaults added
// since m.Defaults[account], and records defaultsVersion.
func (tx *Tx) upgradeDefaults(m *Meta) {
	if m.Defaults == nil {
		m.Defaults = map[string]int{}
	}
	if m.Defaults[tx.Account] < 1 {
		for _, v := range tx.vpcs.Sorted(func(v *VPC) bool { return v.Owner == tx.Account }) {
			if tx.aclDefaultOf(v.ID) == nil {
				tx.aclCreateDefault(v)
			}
		}
	}
	m.Defaults[tx.Account] = defaultsVersion
}
