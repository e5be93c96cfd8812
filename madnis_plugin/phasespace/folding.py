def fold_equivalent_channels(diagrams, pdgs): raise NotImplementedError
