"""Training tasks, one module per family of networks, each a :class:`dlic_lib.train.task.Task`.

``rd`` trains the CompressAI rate–distortion models; the other chapters' networks (recurrent codec,
intra-prediction autoencoders, CNNs around JPEG, ProxIQA) have a module each.
"""
