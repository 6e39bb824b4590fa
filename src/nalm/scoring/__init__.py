"""How a run is judged: the field's metrics (:mod:`~nalm.scoring.metrics`) and the success
thresholds of each reference (:mod:`~nalm.scoring.thresholds`)."""
