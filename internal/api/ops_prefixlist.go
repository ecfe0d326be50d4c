package api

import "github.com/eni-net/eni/internal/core"

// prefixListOps registers the actions of managed prefix lists.
func prefixListOps(m map[string]handler) {
	m["CreateManagedPrefixList"] = write((*core.Tx).CreateManagedPrefixList)
	m["DescribeManagedPrefixLists"] = read((*core.Tx).DescribeManagedPrefixLists)
	m["GetManagedPrefixListEntries"] = read((*core.Tx).GetManagedPrefixListEntries)
	m["ModifyManagedPrefixList"] = write((*core.Tx).ModifyManagedPrefixList)
	m["RestoreManagedPrefixListVersion"] = write((*core.Tx).RestoreManagedPrefixListVersion)
	m["DeleteManagedPrefixList"] = write((*core.Tx).DeleteManagedPrefixList)
	m["GetManagedPrefixListAssociations"] = read((*core.Tx).GetManagedPrefixListAssociations)
	m["DescribePrefixLists"] = read((*core.Tx).DescribePrefixLists)
}
