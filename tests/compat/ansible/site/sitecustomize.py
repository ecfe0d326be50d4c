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

# Every module is a new python that builds its clients from botocore's JSON models:
# parsing EC2's (2.7 MB, into OrderedDicts) takes a fifth of a module's CPU. The
# harness gives each session a directory (ENI_BOTOCORE_CACHE) where a model, once
# parsed, is kept pickled (the same OrderedDicts, read back several times faster),
# keyed by the file's path, size and time. Nothing the modules see changes.
_cache = os.environ.get("ENI_BOTOCORE_CACHE")
if _cache:
    import hashlib
    import pickle

    import botocore.loaders

    _load_file = botocore.loaders.JSONFileLoader._load_file

    def _cached_load_file(self, full_path, open_method):
        try:
            st = os.stat(full_path)
        except OSError:
            return None  # as botocore: no such file
        key = "%s\0%d\0%d" % (full_path, st.st_size, st.st_mtime_ns)
        path = os.path.join(_cache, hashlib.sha256(key.encode()).hexdigest() + ".pickle")
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        data = _load_file(self, full_path, open_method)
        if data is not None:
            tmp = "%s.%d" % (path, os.getpid())
            try:
                with open(tmp, "wb") as f:
                    pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, path)  # whole or not at all, for the session's other modules
            except OSError:
                pass  # a cache only: the module goes on with what it parsed
        return data

    botocore.loaders.JSONFileLoader._load_file = _cached_load_file
