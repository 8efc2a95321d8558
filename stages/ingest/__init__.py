"""Getting data in: the Kaggle client, offline stand-ins, tabular preparation, synthetic sets, arrays."""
