"""params.yaml, loaded and validated once into frozen config objects; a bad value is one line naming its key."""
from stages.config.loading import load, parse, read_yaml
from stages.config.messages import key_path
from stages.config.schema import (PARAMS_FILE, SWEEPABLE, ConceptRow, DataConfig, FoundationsConfig, Params,
                                  ReportConfig, StudyConfig, StudyReport, TrainConfig)
from stages.config.studies import (check_experiment, get_study, representation_config, study_configs, study_report,
                                   task_of, with_changes)

__all__ = ["PARAMS_FILE", "SWEEPABLE", "ConceptRow", "DataConfig", "FoundationsConfig", "Params", "ReportConfig",
           "StudyConfig", "StudyReport", "TrainConfig", "check_experiment", "get_study", "key_path",
           "load", "parse", "read_yaml", "representation_config", "study_configs", "study_report", "task_of", "with_changes"]
