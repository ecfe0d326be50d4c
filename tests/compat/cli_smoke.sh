#!/usr/bin/env bash
# AWS CLI compatibility smoke test for ENI: the README's quick start, run with
# `aws --endpoint-url`, with the output of each step checked.
#
# Usage: cli_smoke.sh [ENDPOINT_URL]   (default $ENI_ENDPOINT, $AWS_ENDPOINT_URL or http://127.0.0.1:4566)
# Prints "N passed, M failed" last; exits 1 if anything failed, 3 if `aws` is missing.
set -u

EP=${1:-${ENI_ENDPOINT:-${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}}}
command -v aws >/dev/null 2>&1 || { echo "aws is not on PATH"; exit 3; }

# A private, empty CLI configuration: the user's ~/.aws must not change the run.
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
export AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN

PASS=0
FAIL=0
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

ec2() { aws --endpoint-url "$EP" ec2 "$@" 2>"$ERR"; }

ok() { # name condition-result detail
	if [ "$2" = 0 ]; then
		PASS=$((PASS + 1))
	else
		FAIL=$((FAIL + 1))
		echo "FAIL $1: $3"
		[ -s "$ERR" ] && sed 's/^/     /' "$ERR"
	fi
}
eq() { # name got want
	[ "$2" = "$3" ]
	ok "$1" $? "got [$2], want [$3]"
}
match() { # name got regex
	[[ $2 =~ $3 ]]
	ok "$1" $? "got [$2], want /$3/"
}
fails() { # name code cmd...: the command must fail with the EC2 error code
	local name=$1 code=$2
	shift 2
	local out rc
	out=$(aws --endpoint-url "$EP" ec2 "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -ne 0 ] && [[ $out == *"An error occurred ($code) when calling the "* ]]
	ok "$name" $? "exit $rc, output [$out], want error $code"
}

echo "$(aws --version 2>&1) against $EP"

VPC=$(ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
match "create-vpc" "$VPC" '^vpc-[0-9a-f]{17}$'
SUBNET=$(ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.0.1.0/24 --availability-zone "${AWS_DEFAULT_REGION}a" --query Subnet.SubnetId --output text)
match "create-subnet" "$SUBNET" '^subnet-[0-9a-f]{17}$'
SG=$(ec2 create-security-group --vpc-id "$VPC" --group-name mgmt --description management --query GroupId --output text)
match "create-security-group" "$SG" '^sg-[0-9a-f]{17}$'
OUT=$(ec2 authorize-security-group-ingress --group-id "$SG" --protocol tcp --port 22 --cidr 10.0.0.0/16 --output json)
ok "authorize-security-group-ingress" $? "$OUT"
match "authorize output" "$OUT" '"Return": true'
eq "rule visible" "$(ec2 describe-security-groups --group-ids "$SG" --query 'SecurityGroups[0].IpPermissions[0].[IpProtocol,FromPort,ToPort,IpRanges[0].CidrIp]' --output text)" \
	"$(printf 'tcp\t22\t22\t10.0.0.0/16')"

# two instances
A=$(ec2 run-instances --image-id ami-0abcdef1234567890 --instance-type t3.small --subnet-id "$SUBNET" --query 'Instances[0].InstanceId' --output text)
match "run-instances A" "$A" '^i-[0-9a-f]{17}$'
B=$(ec2 run-instances --image-id ami-0abcdef1234567890 --instance-type t3.small --subnet-id "$SUBNET" --query 'Instances[0].InstanceId' --output text)
match "run-instances B" "$B" '^i-[0-9a-f]{17}$'
ec2 wait instance-running --instance-ids "$A" "$B"
ok "wait instance-running" $? "waiter failed"
eq "describe-instances state" "$(ec2 describe-instances --instance-ids "$A" --query 'Reservations[0].Instances[0].State.Name' --output text)" running

# an ENI with two secondary IPs and the security group, attached to A
ENI=$(ec2 create-network-interface --subnet-id "$SUBNET" --groups "$SG" --secondary-private-ip-address-count 2 \
	--description "floating mgmt" --query NetworkInterface.NetworkInterfaceId --output text)
match "create-network-interface" "$ENI" '^eni-[0-9a-f]{17}$'
ec2 wait network-interface-available --network-interface-ids "$ENI"
ok "wait network-interface-available" $? "waiter failed"
ATT=$(ec2 attach-network-interface --network-interface-id "$ENI" --instance-id "$A" --device-index 1 --query AttachmentId --output text)
match "attach-network-interface" "$ATT" '^eni-attach-[0-9a-f]{17}$'
ONA=$(ec2 describe-network-interfaces --network-interface-ids "$ENI" \
	--query 'NetworkInterfaces[0].[Attachment.InstanceId,MacAddress,PrivateIpAddresses[].PrivateIpAddress]' --output text)
match "describe on A" "$ONA" "^$A"$'\t''([0-9a-f]{2}:){5}[0-9a-f]{2}'$'\n''10\.0\.1\.[0-9]+'$'\t''10\.0\.1\.[0-9]+'$'\t''10\.0\.1\.[0-9]+$'

# move it to B: MAC, addresses, groups, description and tags follow
ec2 create-tags --resources "$ENI" --tags Key=Name,Value=mgmt
ok "create-tags" $? ""
ec2 detach-network-interface --attachment-id "$ATT"
ok "detach-network-interface" $? ""
ec2 attach-network-interface --network-interface-id "$ENI" --instance-id "$B" --device-index 1 --output json >/dev/null
ok "attach to B" $? ""
ONB=$(ec2 describe-network-interfaces --network-interface-ids "$ENI" \
	--query 'NetworkInterfaces[0].[Attachment.InstanceId,MacAddress,PrivateIpAddresses[].PrivateIpAddress,Groups[0].GroupName,Description]' --output text)
# text output prints a row's scalars first, then its lists on their own lines
eq "describe on B: everything followed" "$ONB" "$(echo "$ONA" | sed "1s/^$A/$B/;1s/\$/"$'\t'"mgmt"$'\t'"floating mgmt/")"
eq "tags followed" "$(ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].TagSet[?Key==`Name`].Value' --output text)" mgmt

# mistakes get AWS's error codes
OUT=$(aws --endpoint-url "$EP" ec2 delete-network-interface --network-interface-id "$ENI" 2>&1)
RC=$?
[ $RC -ne 0 ]
ok "delete in-use ENI fails" $? "exit $RC"
match "delete in-use ENI message" "$OUT" "An error occurred \(InvalidParameterValue\) when calling the DeleteNetworkInterface operation: Network interface '$ENI' is currently in use"
fails "unknown ENI" InvalidNetworkInterfaceID.NotFound describe-network-interfaces --network-interface-ids eni-00000000000000099
fails "malformed ENI id" InvalidNetworkInterfaceId.Malformed describe-network-interfaces --network-interface-ids to-set
fails "dry run" DryRunOperation create-network-interface --subnet-id "$SUBNET" --dry-run

# output formats and auto-pagination
N=$(ec2 describe-network-interfaces --filters "Name=vpc-id,Values=$VPC" --page-size 5 --query 'length(NetworkInterfaces)' --output text)
eq "describe-network-interfaces paginated count" "$N" 3
JSON=$(ec2 describe-network-interfaces --network-interface-ids "$ENI" --output json)
match "json booleans" "$JSON" '"SourceDestCheck": true'
match "json timestamps" "$JSON" '"AttachTime": "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|\+00:00)"'
match "json integers" "$JSON" '"DeviceIndex": 1,'
TABLE=$(ec2 describe-subnets --subnet-ids "$SUBNET" --output table)
match "table output" "$TABLE" "AvailableIpAddressCount"
eq "describe-regions" "$(ec2 describe-regions --region-names "$AWS_DEFAULT_REGION" --query 'Regions[0].RegionName' --output text)" "$AWS_DEFAULT_REGION"
ALLOC=$(ec2 allocate-address --domain vpc --query AllocationId --output text)
match "allocate-address" "$ALLOC" '^eipalloc-[0-9a-f]{17}$'
fails "associate-address without an internet gateway" Gateway.NotAttached associate-address --allocation-id "$ALLOC" --network-interface-id "$ENI"
ec2 release-address --allocation-id "$ALLOC"
ok "release-address" $? ""

# clean up
ec2 terminate-instances --instance-ids "$A" "$B" --output json >/dev/null
ok "terminate-instances" $? ""
ec2 wait instance-terminated --instance-ids "$A" "$B"
ok "wait instance-terminated" $? "waiter failed"
eq "ENI survives termination (DeleteOnTermination false)" \
	"$(ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].Status' --output text)" available
ec2 delete-network-interface --network-interface-id "$ENI"
ok "delete-network-interface" $? ""
ec2 delete-security-group --group-id "$SG" >/dev/null
ok "delete-security-group" $? ""
ec2 delete-subnet --subnet-id "$SUBNET"
ok "delete-subnet" $? ""
ec2 delete-vpc --vpc-id "$VPC"
ok "delete-vpc" $? ""

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
