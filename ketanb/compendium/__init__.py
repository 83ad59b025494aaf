"""The compendium's plumbing: running a stage notebook, content stamps, assembling results.json,
the reviewers' index, provenance, and publishing a finished build.

Students adapting the analysis rarely need to read this subpackage: the
statistics and the stages are one level up.
"""
