"""Generated protocol buffer modules (see tools/gen_protos.py); proto package ``tbcore``."""
