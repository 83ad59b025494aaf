"""The compendium's plumbing: running a stage notebook, content stamps, assembling results.json
(and having :mod:`ketanb.presentation.index` write the reviewers' index), provenance, and
publishing a finished build. It imports no stage.

Students adapting the analysis rarely need to read this subpackage: the
statistics and the stages are one level up.
"""
