package core

import "fmt"

// Error is a failure the client caused (or may retry), with its EC2 error code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// EC2Code is the error code, for callers that only know
// interface{ error; EC2Code() string }.
func (e *Error) EC2Code() string { return e.Code }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// The EC2 error codes the core returns. Every code used in the core must be
// listed in Codes (a test checks that the API layer maps each of them).
const (
	CodeInvalidParameterValue          = "InvalidParameterValue"
	CodeInvalidParameter               = "InvalidParameter"
	CodeInvalidParameterCombination    = "InvalidParameterCombination"
	CodeMissingParameter               = "MissingParameter"
	CodeUnknownParameter               = "UnknownParameter"
	CodeInvalidAction                  = "InvalidAction"
	CodeDryRunOperation                = "DryRunOperation"
	CodeIdempotentParameterMismatch    = "IdempotentParameterMismatch"
	CodeInvalidNextToken               = "InvalidNextToken"
	CodeInvalidFilter                  = "InvalidFilter"
	CodeFilterLimitExceeded            = "FilterLimitExceeded"
	CodeOperationNotPermitted          = "OperationNotPermitted"
	CodeDependencyViolation            = "DependencyViolation"
	CodeInvalidVpcIDNotFound           = "InvalidVpcID.NotFound"
	CodeInvalidVpcIDMalformed          = "InvalidVpcID.Malformed"
	CodeInvalidVpcRange                = "InvalidVpc.Range"
	CodeVpcLimitExceeded               = "VpcLimitExceeded"
	CodeInvalidSubnetIDNotFound        = "InvalidSubnetID.NotFound"
	CodeInvalidSubnetIDMalformed       = "InvalidSubnetID.Malformed"
	CodeInvalidSubnetRange             = "InvalidSubnet.Range"
	CodeInvalidSubnetConflict          = "InvalidSubnet.Conflict"
	CodeInvalidGroupNotFound           = "InvalidGroup.NotFound"
	CodeInvalidGroupIDMalformed        = "InvalidGroupId.Malformed"
	CodeInvalidGroupDuplicate          = "InvalidGroup.Duplicate"
	CodeInvalidGroupReserved           = "InvalidGroup.Reserved"
	CodeInvalidGroupInUse              = "InvalidGroup.InUse"
	CodeCannotDelete                   = "CannotDelete"
	CodeInvalidPermissionDuplicate     = "InvalidPermission.Duplicate"
	CodeInvalidPermissionNotFound      = "InvalidPermission.NotFound"
	CodeInvalidPermissionMalformed     = "InvalidPermission.Malformed"
	CodeRulesPerGroupLimitExceeded     = "RulesPerSecurityGroupLimitExceeded"
	CodeSecurityGroupRuleIDNotFound    = "InvalidSecurityGroupRuleId.NotFound"
	CodeSecurityGroupRuleIDMalformed   = "InvalidSecurityGroupRuleId.Malformed"
	CodeSGsPerInterfaceLimitExceeded   = "SecurityGroupsPerInterfaceLimitExceeded"
	CodeVPCIdNotSpecified              = "VPCIdNotSpecified"
	CodeInvalidENINotFound             = "InvalidNetworkInterfaceID.NotFound"
	CodeInvalidENIMalformed            = "InvalidNetworkInterfaceId.Malformed"
	CodeInvalidENIInUse                = "InvalidNetworkInterface.InUse"
	CodeInvalidAttachmentNotFound      = "InvalidAttachmentID.NotFound"
	CodeInvalidAttachmentMalformed     = "InvalidNetworkInterfaceAttachmentId.Malformed"
	CodeAttachmentLimitExceeded        = "AttachmentLimitExceeded"
	CodeInterfaceIPLimitExceeded       = "InvalidInterface.IpAddressLimitExceeded"
	CodePrivateIPLimitExceeded         = "PrivateIpAddressLimitExceeded"
	CodeInvalidIPAddressInUse          = "InvalidIPAddress.InUse"
	CodeInsufficientFreeAddresses      = "InsufficientFreeAddressesInSubnet"
	CodeInsufficientCidrBlocks         = "InsufficientCidrBlocks"
	CodeInsufficientInstanceCapacity   = "InsufficientInstanceCapacity"
	CodeNetworkInterfaceLimitExceeded  = "NetworkInterfaceLimitExceeded"
	CodeInvalidInstanceIDNotFound      = "InvalidInstanceID.NotFound"
	CodeInvalidInstanceIDMalformed     = "InvalidInstanceID.Malformed"
	CodeInvalidInstanceID              = "InvalidInstanceID"
	CodeIncorrectInstanceState         = "IncorrectInstanceState"
	CodeInvalidInstanceType            = "InvalidInstanceType"
	CodeInvalidAMIIDMalformed          = "InvalidAMIID.Malformed"
	CodeInvalidAMIIDNotFound           = "InvalidAMIID.NotFound"
	CodeInvalidAllocationIDNotFound    = "InvalidAllocationID.NotFound"
	CodeInvalidAllocationIDMalformed   = "InvalidAllocationID.Malformed"
	CodeInvalidAssociationIDNotFound   = "InvalidAssociationID.NotFound"
	CodeInvalidAssociationIDMalformed  = "InvalidAssociationID.Malformed"
	CodeInvalidAddressNotFound         = "InvalidAddress.NotFound"
	CodeAddressLimitExceeded           = "AddressLimitExceeded"
	CodeResourceAlreadyAssociated      = "Resource.AlreadyAssociated"
	CodeGatewayNotAttached             = "Gateway.NotAttached"
	CodeInvalidIGWIDNotFound           = "InvalidInternetGatewayID.NotFound"
	CodeInvalidIGWIDMalformed          = "InvalidInternetGatewayId.Malformed"
	CodeResourceAlreadyAttached        = "Resource.AlreadyAssociated"
	CodeInvalidRouteTableIDNotFound    = "InvalidRouteTableID.NotFound"
	CodeInvalidRouteTableIDMalformed   = "InvalidRouteTableId.Malformed"
	CodeInvalidRouteNotFound           = "InvalidRoute.NotFound"
	CodeRouteAlreadyExists             = "RouteAlreadyExists"
	CodeInvalidGatewayIDNotFound       = "InvalidGatewayID.NotFound"
	CodeSubnetLimitExceeded            = "SubnetLimitExceeded"
	CodeInvalidRouteTableAssocNotFound = "InvalidAssociationID.NotFound"
	// Network ACLs and managed prefix lists.
	CodeInvalidNetworkACLIDNotFound         = "InvalidNetworkAclID.NotFound"
	CodeInvalidNetworkACLIDMalformed        = "InvalidNetworkAclId.Malformed"
	CodeNetworkACLLimitExceeded             = "NetworkAclLimitExceeded"
	CodeNetworkACLEntryAlreadyExists        = "NetworkAclEntryAlreadyExists"
	CodeInvalidNetworkACLEntryNotFound      = "InvalidNetworkAclEntry.NotFound"
	CodeRulesPerACLLimitExceeded            = "RulesPerAclLimitExceeded"
	CodeInvalidPrefixListIDNotFound         = "InvalidPrefixListID.NotFound"
	CodeInvalidPrefixListIDMalformed        = "InvalidPrefixListId.Malformed"
	CodePrefixListVersionMismatch           = "PrefixListVersionMismatch"
	CodeInvalidPrefixListModification       = "InvalidPrefixListModification"
	CodeInvalidPermIDNotFound               = "InvalidNetworkInterfacePermissionID.NotFound"
	CodeInvalidPermIDMalformed              = "InvalidNetworkInterfacePermissionId.Malformed"
	CodeInvalidID                           = "InvalidID"
	CodeInvalidTagKeyMalformed              = "InvalidTagKey.Malformed"
	CodeTagLimitExceeded                    = "TagLimitExceeded"
	CodeInvalidCidrMalformed                = "InvalidParameterValue"
	CodeInvalidCidrBlockNotFound            = "InvalidVpcCidrBlockAssociationID.NotFound"
	CodeAuthFailure                         = "AuthFailure"
	CodeUnauthorizedOperation               = "UnauthorizedOperation"
	CodeInvalidRegion                       = "InvalidRegion"
	CodeInternalError                       = "InternalError"
	CodeInvalidVolumeNotFound               = "InvalidVolume.NotFound"
	CodeInvalidVolumeIDMalformed            = "InvalidVolumeID.Malformed"
	CodeUnsupportedOperation                = "UnsupportedOperation"
	CodeUnsupported                         = "Unsupported"
	CodeInvalidBlockDeviceMapping           = "InvalidBlockDeviceMapping"
	CodeInvalidSnapshotNotFound             = "InvalidSnapshot.NotFound"
	CodeInvalidSnapshotIDMalformed          = "InvalidSnapshotID.Malformed"
	CodeInvalidParameterDependency          = "InvalidParameterDependency"
	CodeInvalidKeyPairNotFound              = "InvalidKeyPair.NotFound"
	CodeInvalidKeyPairDuplicate             = "InvalidKeyPair.Duplicate"
	CodeInvalidKeyFormat                    = "InvalidKey.Format"
	CodeVolumeInUse                         = "VolumeInUse"
	CodeIncorrectState                      = "IncorrectState"
	CodeInvalidVolumeZoneMismatch           = "InvalidVolume.ZoneMismatch"
	CodeInvalidVolumeAttachNotFound         = "InvalidAttachment.NotFound"
	CodeVolumeModRateExceeded               = "VolumeModificationRateExceeded"
	CodeInvalidVolumeModNotFound            = "InvalidVolumeModification.NotFound"
	CodeInvalidInstanceAttributeValue       = "InvalidInstanceAttributeValue"
	CodeInvalidDhcpOptionIDNotFound         = "InvalidDhcpOptionID.NotFound"
	CodeInvalidSubnetCidrAssocNotFound      = "InvalidSubnetCidrBlockAssociationID.NotFound"
	CodeDefaultVpcAlreadyExists             = "DefaultVpcAlreadyExists"
	CodeDefaultSubnetAlreadyExists          = "DefaultSubnetAlreadyExistsInAvailabilityZone"
	CodeDefaultVpcDoesNotExist              = "DefaultVpcDoesNotExist"
	CodeInvalidDhcpOptionsIDMalformed       = "InvalidDhcpOptionsId.Malformed"
	CodeInvalidEIGWIDMalformed              = "InvalidEgressOnlyInternetGatewayId.Malformed"
	CodeInvalidVpnGatewayIDNotFound         = "InvalidVpnGatewayID.NotFound"
	CodeInvalidVpnGatewayIDMalformed        = "InvalidVpnGatewayID.Malformed"
	CodeInvalidVpnGatewayAttachmentNotFound = "InvalidVpnGatewayAttachment.NotFound"
	CodeVpnGatewayAttachmentLimitExceeded   = "VpnGatewayAttachmentLimitExceeded"
	CodeNatGatewayNotFound                  = "NatGatewayNotFound"
	CodeNatGatewayMalformed                 = "NatGatewayMalformed"
	CodeInvalidNatGatewayIDNotFound         = "InvalidNatGatewayID.NotFound"
	CodeLaunchTemplateNameMalformed         = "InvalidLaunchTemplateName.MalformedException"
	CodeLaunchTemplateNameDuplicate         = "InvalidLaunchTemplateName.AlreadyExistsException"
	CodeLaunchTemplateNameNotFound          = "InvalidLaunchTemplateName.NotFoundException"
	CodeLaunchTemplateIDNotFound            = "InvalidLaunchTemplateId.NotFound"
	CodeLaunchTemplateIDMalformed           = "InvalidLaunchTemplateId.Malformed"
	CodeLaunchTemplateVersionNotFound       = "InvalidLaunchTemplateId.VersionNotFound"
)

// Codes lists every code above (the API layer maps each to an HTTP status).
var Codes = []string{
	CodeInvalidParameterValue, CodeInvalidParameter, CodeInvalidParameterCombination, CodeMissingParameter,
	CodeUnknownParameter, CodeInvalidAction, CodeDryRunOperation, CodeIdempotentParameterMismatch,
	CodeInvalidNextToken, CodeInvalidFilter, CodeFilterLimitExceeded, CodeOperationNotPermitted,
	CodeDependencyViolation, CodeInvalidVpcIDNotFound, CodeInvalidVpcIDMalformed, CodeInvalidVpcRange,
	CodeVpcLimitExceeded, CodeInvalidSubnetIDNotFound, CodeInvalidSubnetIDMalformed, CodeInvalidSubnetRange,
	CodeInvalidSubnetConflict, CodeInvalidGroupNotFound, CodeInvalidGroupIDMalformed, CodeInvalidGroupDuplicate,
	CodeInvalidGroupReserved, CodeInvalidGroupInUse, CodeCannotDelete, CodeInvalidPermissionDuplicate,
	CodeInvalidPermissionNotFound, CodeInvalidPermissionMalformed, CodeRulesPerGroupLimitExceeded,
	CodeSecurityGroupRuleIDNotFound, CodeSecurityGroupRuleIDMalformed, CodeSGsPerInterfaceLimitExceeded,
	CodeVPCIdNotSpecified, CodeInvalidENINotFound, CodeInvalidENIMalformed, CodeInvalidENIInUse,
	CodeInvalidAttachmentNotFound, CodeInvalidAttachmentMalformed, CodeAttachmentLimitExceeded,
	CodeInterfaceIPLimitExceeded, CodePrivateIPLimitExceeded, CodeInvalidIPAddressInUse,
	CodeInsufficientFreeAddresses, CodeInsufficientCidrBlocks, CodeInsufficientInstanceCapacity, CodeNetworkInterfaceLimitExceeded, CodeInvalidInstanceIDNotFound,
	CodeInvalidInstanceIDMalformed, CodeInvalidInstanceID, CodeIncorrectInstanceState, CodeInvalidInstanceType,
	CodeInvalidAMIIDMalformed, CodeInvalidAMIIDNotFound, CodeInvalidAllocationIDNotFound,
	CodeInvalidAllocationIDMalformed, CodeInvalidAssociationIDNotFound, CodeInvalidAssociationIDMalformed,
	CodeInvalidAddressNotFound, CodeAddressLimitExceeded, CodeResourceAlreadyAssociated, CodeGatewayNotAttached,
	CodeInvalidIGWIDNotFound, CodeInvalidIGWIDMalformed, CodeInvalidRouteTableIDNotFound,
	CodeInvalidRouteTableIDMalformed, CodeInvalidRouteNotFound, CodeRouteAlreadyExists,
	CodeInvalidGatewayIDNotFound, CodeSubnetLimitExceeded,
	CodeInvalidNetworkACLIDNotFound, CodeInvalidNetworkACLIDMalformed, CodeNetworkACLLimitExceeded,
	CodeNetworkACLEntryAlreadyExists, CodeInvalidNetworkACLEntryNotFound, CodeRulesPerACLLimitExceeded,
	CodeInvalidPrefixListIDNotFound, CodeInvalidPrefixListIDMalformed, CodePrefixListVersionMismatch,
	CodeInvalidPrefixListModification,
	CodeInvalidPermIDNotFound, CodeInvalidPermIDMalformed, CodeInvalidID, CodeInvalidTagKeyMalformed,
	CodeTagLimitExceeded, CodeInvalidCidrBlockNotFound, CodeAuthFailure, CodeUnauthorizedOperation,
	CodeInvalidRegion, CodeInternalError, CodeInvalidVolumeNotFound, CodeInvalidVolumeIDMalformed,
	CodeUnsupportedOperation, CodeUnsupported, CodeInvalidBlockDeviceMapping, CodeInvalidSnapshotNotFound, CodeInvalidSnapshotIDMalformed,
	CodeInvalidParameterDependency, CodeInvalidKeyPairNotFound, CodeInvalidKeyPairDuplicate, CodeInvalidKeyFormat,
	CodeVolumeInUse, CodeIncorrectState, CodeInvalidVolumeZoneMismatch, CodeInvalidVolumeAttachNotFound,
	CodeVolumeModRateExceeded, CodeInvalidVolumeModNotFound, CodeInvalidInstanceAttributeValue,
	CodeInvalidDhcpOptionIDNotFound, CodeInvalidDhcpOptionsIDMalformed, CodeInvalidSubnetCidrAssocNotFound,
	CodeDefaultVpcAlreadyExists, CodeDefaultSubnetAlreadyExists, CodeDefaultVpcDoesNotExist, CodeInvalidEIGWIDMalformed,
	CodeInvalidVpnGatewayIDNotFound, CodeInvalidVpnGatewayIDMalformed, CodeInvalidVpnGatewayAttachmentNotFound, CodeVpnGatewayAttachmentLimitExceeded,
	CodeLaunchTemplateNameMalformed, CodeLaunchTemplateNameDuplicate, CodeLaunchTemplateNameNotFound,
	CodeLaunchTemplateIDNotFound, CodeLaunchTemplateIDMalformed, CodeLaunchTemplateVersionNotFound,
	CodeNatGatewayNotFound, CodeNatGatewayMalformed, CodeInvalidNatGatewayIDNotFound,
	CodeNoSuchEntity, CodeEntityAlreadyExists, CodeDeleteConflict, CodeLimitExceeded, CodeValidationError, CodeMalformedPolicyDoc, CodeInvalidInput,
}
