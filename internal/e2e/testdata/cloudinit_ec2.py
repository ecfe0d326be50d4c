"""Run cloud-init's EC2 data source (Debian's cloud-init package) against the
instance metadata service of the instance this runs in, as cloud-init does at
boot (not a whole boot): crawl it, then derive the network configuration.

As cloud-init's own tests (tests/unittests/sources/test_ec2.py) do, the one
thing patched is the platform check (on EC2, the DMI / hypervisor UUID starts
with "ec2"), so that the data source takes AWS's path: IMDSv2 tokens first.
Prints one JSON object on stdout; logs on stderr.
"""
import atexit
import json
import logging
import shutil
import sys
import tempfile

from cloudinit import helpers
from cloudinit.sources import DataSourceEc2 as ec2

logging.basicConfig(stream=sys.stderr, level=logging.DEBUG)

PLATFORM = {
    "uuid": "ec212f79-87d1-2f1d-588f-d86dc0fd5412",
    "uuid_source": "dmi",
    "serial": "ec212f79-87d1-2f1d-588f-d86dc0fd5412",
    "asset_tag": "",
    "vendor": "amazon ec2",
    "product_name": "",
}
ec2._collect_platform_data = lambda: dict(PLATFORM)

sys_cfg = {
    "datasource": {
        "Ec2": {
            "strict_id": True,
            "metadata_urls": ["http://169.254.169.254"],
            "timeout": 10,
            "max_wait": 60,
        }
    }
}
run_dir = tempfile.mkdtemp()
atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
paths = helpers.Paths({"run_dir": run_dir})
ds = ec2.DataSourceEc2(sys_cfg=sys_cfg, distro={}, paths=paths)
ok = ds.get_data()
out = {"get_data": ok, "cloud_name": ds.cloud_name}
if ok:
    md = ds.metadata
    out.update(
        {
            "metadata_address": ds.metadata_address,
            "api_version": ds._crawled_metadata.get("_metadata_api_version"),
            "token": bool(ds._api_token),
            "instance_id": ds.get_instance_id(),
            "availability_zone": ds.availability_zone,
            "region": ds.region,
            "local_hostname": md.get("local-hostname"),
            "macs": md["network"]["interfaces"]["macs"],
            "network_config": ds.network_config,
            "classic": ds.is_classic_instance(),
        }
    )
json.dump(out, sys.stdout, sort_keys=True)
