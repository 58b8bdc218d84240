"""Array cases shared by several test files."""

NUMERIC_DTYPES = [
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
]
"""Every numpy dtype TensorBoard has a DataType for (strings and ml_dtypes aside)."""
