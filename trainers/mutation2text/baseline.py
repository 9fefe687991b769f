"""
Baselines on the same held-out rows.

    text-only LLM          the same language model, LoRA-fine-tuned like stage 2 on the same chats with the protein
                           left out (`Mutation2TextDataCollator(use_protein=False)`); trained in `run_mutation2text`.
    nearest neighbour      retrieval: the training wild type most similar to the test wild type (Jaccard similarity of
                           their sets of 3-mers: alignment-free, fast on 1,000-residue proteins; 1.0 for the same
                           protein), and of its descriptions the one whose mutation is closest in position; returned
                           verbatim.
"""

from modeling.mutation2text.mutations_mutation2text import parse_mutations

K = 3


def kmers(sequence: str, k: int = K) -> frozenset:
    return frozenset(sequence[i:i + k] for i in range(len(sequence) - k + 1))


class NearestNeighbourRetrieval:
    def __init__(self, train_split):
        self.by_protein = {}
        for wild_type, mutation, answer in zip(train_split["wild_type"], train_split["mutation"], train_split["answer"]):
            self.by_protein.setdefault(wild_type, []).append((parse_mutations(mutation)[0].position, answer))
        if not self.by_protein:
            raise ValueError("nearest-neighbour retrieval needs at least one training row")
        self.proteins = [(candidate, kmers(candidate)) for candidate in self.by_protein]

    def nearest_protein(self, wild_type: str) -> str:
        """The training wild type with the highest 3-mer Jaccard similarity (the first one on ties)."""
        query = kmers(wild_type)

        def similarity(item):
            shared = len(query & item[1])
            return shared / (len(query) + len(item[1]) - shared or 1)

        return max(self.proteins, key=similarity)[0]

    def predict(self, wild_type: str, mutation: str) -> str:
        position = parse_mutations(mutation)[0].position
        entries = self.by_protein[self.nearest_protein(wild_type)]
        return min(entries, key=lambda entry: abs(entry[0] - position))[1]
