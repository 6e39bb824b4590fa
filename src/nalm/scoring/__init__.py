"""How a run is judged: the field's metrics (:mod:`~nalm.scoring.metrics`), the success thresholds
of each reference (:mod:`~nalm.scoring.thresholds`), a trained run's success, solved-at and
normalized errors (:mod:`~nalm.scoring.success`), and the data-set experiments' criterion
against the solved model (:mod:`~nalm.scoring.sequences`)."""
