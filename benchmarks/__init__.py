"""mxplug's asv benchmark suite (see docs/performance.md).

bench_ops       generated: every registered operator, small and large case, every usable context,
                forward and forward+backward
bench_dispatch  per-call overhead of tiny operators, with and without autograd recording
bench_training  an MLP training step (dot + relu + SGD) per context
bench_memory    peak memory (peakmem_) and object sizes (mem_)
bench_import    `import mxplug` and the first array (timeraw_, fresh interpreters)

`dispatch.py` is the stand-alone ratio script (`python benchmarks/dispatch.py`); asv imports it but finds
no benchmarks in it.
"""
