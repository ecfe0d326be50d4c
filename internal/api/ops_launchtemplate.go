package api

import "github.com/eni-net/eni/internal/core"

// launchTemplateOps registers the actions of launch templates.
func launchTemplateOps(m map[string]handler) {
	m["CreateLaunchTemplate"] = write((*core.Tx).CreateLaunchTemplate)
	m["DescribeLaunchTemplates"] = read((*core.Tx).DescribeLaunchTemplates)
	m["DescribeLaunchTemplateVersions"] = read((*core.Tx).DescribeLaunchTemplateVersions)
	m["CreateLaunchTemplateVersion"] = write((*core.Tx).CreateLaunchTemplateVersion)
	m["ModifyLaunchTemplate"] = write((*core.Tx).ModifyLaunchTemplate)
	m["DeleteLaunchTemplate"] = write((*core.Tx).DeleteLaunchTemplate)
	m["DeleteLaunchTemplateVersions"] = write((*core.Tx).DeleteLaunchTemplateVersions)
}
