"""`pare lint` and `pare fix`: Dockerfile review priced in bytes, and a rewrite to the builder pattern.

parser reads Dockerfiles as BuildKit does; rules are small values (id, severity, docs page, check);
pricing puts a byte estimate on each finding; fix rewrites a single stage into builder + final.
"""
