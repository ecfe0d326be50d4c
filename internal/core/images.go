package core

import (
	"strconv"
	"strings"

	"github.com/eni-net/eni/internal/ec2wire"
)

// The image catalogue is a small, fixed list of public AMIs so that clients
// that look an image up by name (Terraform's aws_ami data source, SDK
// examples) find one. RunInstances does not require an image from this list:
// any well-formed image id launches (there is no disk to boot).

// image is one catalogue entry.
type image struct {
	ID           string
	Name         string
	Description  string
	Architecture string // x86_64 | arm64
	OwnerID      string
	OwnerAlias   string // "amazon" for Amazon's own images, "" otherwise
	CreationDate string
	Platform     string // PlatformDetails
	// The root volume of its block device mapping.
	SnapshotID string
	RootSize   int32 // GiB
	VolumeType string
}

// Owner accounts of the public images (as in AWS).
const (
	imageOwnerAmazon    = "137112412989"
	imageOwnerCanonical = "099720109477"
	imageOwnerDebian    = "136693071363"
)

var imageCatalogue = []image{
	{ID: "ami-0a3c3a20c09d6f377", Name: "al2023-ami-2023.6.20250115.0-kernel-6.1-x86_64", Description: "Amazon Linux 2023 AMI 2023.6.20250115.0 x86_64 HVM kernel-6.1", Architecture: "x86_64", OwnerID: imageOwnerAmazon, OwnerAlias: "amazon", CreationDate: "2025-01-15T19:47:11.000Z", SnapshotID: "snap-0c9f8a3e5b6d1f247", RootSize: 8, VolumeType: "gp3"},
	{ID: "ami-0c5f1e0e2a2b9b8d4", Name: "al2023-ami-2023.6.20250115.0-kernel-6.1-arm64", Description: "Amazon Linux 2023 AMI 2023.6.20250115.0 arm64 HVM kernel-6.1", Architecture: "arm64", OwnerID: imageOwnerAmazon, OwnerAlias: "amazon", CreationDate: "2025-01-15T19:47:12.000Z", SnapshotID: "snap-04e7b2d9a1c3f5e86", RootSize: 8, VolumeType: "gp3"},
	{ID: "ami-0e2c8caa4b6378d8c", Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250115", Description: "Canonical, Ubuntu, 24.04, amd64 noble image", Architecture: "x86_64", OwnerID: imageOwnerCanonical, CreationDate: "2025-01-15T07:21:40.000Z", SnapshotID: "snap-0a1d3c5e7f9b2d4e6", RootSize: 8, VolumeType: "gp3"},
	{ID: "ami-0a7a4e87939439934", Name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250115", Description: "Canonical, Ubuntu, 24.04, arm64 noble image", Architecture: "arm64", OwnerID: imageOwnerCanonical, CreationDate: "2025-01-15T07:21:41.000Z", SnapshotID: "snap-07b3e5a9c1d2f4e68", RootSize: 8, VolumeType: "gp3"},
	{ID: "ami-005fc0f236362e99f", Name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250112", Description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image", Architecture: "x86_64", OwnerID: imageOwnerCanonical, CreationDate: "2025-01-12T06:14:02.000Z", SnapshotID: "snap-0f2a4c6e8b1d3f5a7", RootSize: 8, VolumeType: "gp2"},
	{ID: "ami-064519b8c76274859", Name: "debian-12-amd64-20250112-1990", Description: "Debian 12 (20250112-1990)", Architecture: "x86_64", OwnerID: imageOwnerDebian, CreationDate: "2025-01-12T21:34:51.000Z", SnapshotID: "snap-03c5e7a9b2d4f6a81", RootSize: 8, VolumeType: "gp2"},
	{ID: "ami-0789039e34e739d67", Name: "debian-12-arm64-20250112-1990", Description: "Debian 12 (20250112-1990)", Architecture: "arm64", OwnerID: imageOwnerDebian, CreationDate: "2025-01-12T21:34:52.000Z", SnapshotID: "snap-0e6a8c1b3d5f7a9c2", RootSize: 8, VolumeType: "gp2"},
}

// imageByID returns the catalogue image with id, or nil.
func imageByID(id string) *image {
	for i := range imageCatalogue {
		if imageCatalogue[i].ID == id {
			return &imageCatalogue[i]
		}
	}
	return nil
}

// validImageID reports whether id is ami- with 8 or 17 lower-case hex digits.
func validImageID(id string) bool { return validID(id, "ami") }

func (im *image) rootDevice() string {
	if strings.HasPrefix(im.Name, "al2023") {
		return "/dev/xvda"
	}
	return "/dev/sda1"
}

func (im *image) out() ec2wire.Image {
	out := ec2wire.Image{
		ImageId: p(im.ID), Name: p(im.Name), Description: p(im.Description), Architecture: p(im.Architecture),
		OwnerId: p(im.OwnerID), CreationDate: p(im.CreationDate), State: p("available"), Public: p(true),
		ImageType: p("machine"), Hypervisor: p("xen"), VirtualizationType: p("hvm"), RootDeviceType: p("ebs"),
		RootDeviceName: p(im.rootDevice()), EnaSupport: p(true), SriovNetSupport: p("simple"),
		PlatformDetails: p("Linux/UNIX"), UsageOperation: p("RunInstances"), BootMode: p("uefi-preferred"),
		ImageLocation: p(im.OwnerID + "/" + im.Name),
		BlockDeviceMappings: []ec2wire.BlockDeviceMapping{{DeviceName: p(im.rootDevice()), Ebs: &ec2wire.EbsBlockDevice{
			DeleteOnTermination: p(true), SnapshotId: p(im.SnapshotID), VolumeSize: p(im.RootSize), VolumeType: p(im.VolumeType), Encrypted: p(false),
		}}},
	}
	if im.VolumeType == "gp3" {
		out.BlockDeviceMappings[0].Ebs.Iops, out.BlockDeviceMappings[0].Ebs.Throughput = p(int32(3000)), p(int32(125))
	}
	if im.OwnerAlias != "" {
		out.ImageOwnerAlias = p(im.OwnerAlias)
		out.ImageLocation = p(im.OwnerAlias + "/" + im.Name)
	}
	return out
}

var imageFilters = filterSet[image]{
	"image-id":                         func(im *image) []string { return []string{im.ID} },
	"name":                             func(im *image) []string { return []string{im.Name} },
	"description":                      func(im *image) []string { return []string{im.Description} },
	"architecture":                     func(im *image) []string { return []string{im.Architecture} },
	"owner-id":                         func(im *image) []string { return []string{im.OwnerID} },
	"owner-alias":                      func(im *image) []string { return []string{im.OwnerAlias} },
	"state":                            func(im *image) []string { return []string{"available"} },
	"is-public":                        func(im *image) []string { return []string{"true"} },
	"image-type":                       func(im *image) []string { return []string{"machine"} },
	"virtualization-type":              func(im *image) []string { return []string{"hvm"} },
	"root-device-type":                 func(im *image) []string { return []string{"ebs"} },
	"root-device-name":                 func(im *image) []string { return []string{im.rootDevice()} },
	"hypervisor":                       func(im *image) []string { return []string{"xen"} },
	"platform-details":                 func(im *image) []string { return []string{"Linux/UNIX"} },
	"ena-support":                      func(im *image) []string { return []string{"true"} },
	"creation-date":                    func(im *image) []string { return []string{im.CreationDate} },
	"block-device-mapping.device-name": func(im *image) []string { return []string{im.rootDevice()} },
	"block-device-mapping.snapshot-id": func(im *image) []string { return []string{im.SnapshotID} },
	"block-device-mapping.volume-size": func(im *image) []string { return []string{strconv.Itoa(int(im.RootSize))} },
	"block-device-mapping.volume-type": func(im *image) []string { return []string{im.VolumeType} },
	"block-device-mapping.delete-on-termination": func(im *image) []string { return []string{"true"} },
	"block-device-mapping.encrypted":             func(im *image) []string { return []string{"false"} },
}

// DescribeImages lists the built-in public images.
func (tx *Tx) DescribeImages(in *ec2wire.DescribeImagesInput) (*ec2wire.DescribeImagesOutput, error) {
	m, err := newMatcher(imageFilters, func(*image) Tags { return nil }, in.Filters)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range in.ImageIds {
		if !validImageID(id) {
			return nil, errorf(CodeInvalidAMIIDMalformed, "Invalid id: \"%s\" (expecting \"ami-...\")", id)
		}
		if imageByID(id) == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, errorf(CodeInvalidAMIIDNotFound, "The image id '[%s]' does not exist", strings.Join(missing, ", "))
	}
	owned := func(im *image) bool {
		if len(in.Owners) == 0 {
			return true
		}
		for _, o := range in.Owners {
			switch {
			case o == "self":
				// The caller owns no images.
			case o == im.OwnerID, o != "" && o == im.OwnerAlias:
				return true
			}
		}
		return false
	}
	out := &ec2wire.DescribeImagesOutput{}
	for i := range imageCatalogue {
		im := &imageCatalogue[i]
		if (len(in.ImageIds) == 0 || contains(in.ImageIds, im.ID)) && owned(im) && m.match(im) {
			out.Images = append(out.Images, im.out())
		}
	}
	return out, nil
}
