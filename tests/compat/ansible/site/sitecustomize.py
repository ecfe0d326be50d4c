# Part of ENI's Ansible harness (tests/compat/ansible), put on PYTHONPATH by the harness only.
#
# amazon.aws modules take their endpoint from EC2_URL / AWS_URL, but its lookup plugins
# (aws_account_attribute, …) and a few helpers build clients with no endpoint at all, and
# Debian's botocore (1.29) predates AWS_ENDPOINT_URL. This gives every EC2 and STS client
# that has no endpoint of its own the server under test, as AWS_ENDPOINT_URL does in
# newer botocore. Nothing else is changed.
import os

_url = os.environ.get("ENI_ENDPOINT_URL")
if _url:
    import botocore.session

    _create = botocore.session.Session.create_client

    def _create_client(self, service_name, *args, **kwargs):
        if service_name in ("ec2", "sts") and not kwargs.get("endpoint_url") and len(args) < 5:
            kwargs["endpoint_url"] = _url
        return _create(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = _create_client

    # With debug_botocore_endpoint_logs (ANSIBLE_DEBUG_BOTOCORE_LOGS, as ansible-test sets
    # it) the modules report the calls they made as "<service>:<Action>", taking the
    # service from an https://<service>. URL in botocore's request log line; the server
    # under test is http://127.0.0.1:…, so name the service's AWS URL on that line.
    import logging

    class _ServiceURL(logging.Filter):
        def filter(self, record):
            args = record.args
            if isinstance(args, tuple) and args and hasattr(args[0], "service_model"):
                line = record.getMessage()
                if "https://" not in line:
                    prefix = args[0].service_model.endpoint_prefix
                    record.msg = "%s (https://%s.amazonaws.com/)" % (line.replace("%", "%%"), prefix)
                    record.args = ()
            return True

    logging.getLogger("botocore.endpoint").addFilter(_ServiceURL())
