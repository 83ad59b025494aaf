"""The compendium's plumbing: running a stage notebook, content stamps, assembling results.json
(and having :mod:`ketanb.presentation.index` write the reviewers' index), provenance, and
publishing a finished build. It imports no stage; it is the top of the package, and nothing in
ketanb imports it (the notebooks call :func:`ketanb.compendium.stage.start`).

Students adapting the analysis rarely need to read this subpackage: the
statistics and the stages are one level up.
"""
