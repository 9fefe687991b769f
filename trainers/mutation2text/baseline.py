"""
Baselines on the same protein-disjoint split.

    text-only LLM          the same language model, LoRA-fine-tuned like stage 2 on the same chats with the protein
                           left out (`Mutation2TextDataCollator(use_protein=False)`); trained in `run_mutation2text`.
    nearest neighbour      retrieval by sequence identity: the training wild type most identical to the test wild
                           type (difflib's matching-block ratio), and of its descriptions the one whose mutation is
                           closest in position; returned verbatim.
"""

import difflib

from modeling.mutation2text.mutations_mutation2text import parse_mutations


class NearestNeighbourRetrieval:
    def __init__(self, train_split):
        self.by_protein = {}
        for wild_type, mutation, answer in zip(train_split["wild_type"], train_split["mutation"], train_split["answer"]):
            self.by_protein.setdefault(wild_type, []).append((parse_mutations(mutation)[0].position, answer))
        self.proteins = list(self.by_protein)

    def nearest_protein(self, wild_type: str) -> str:
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(wild_type)
        best, best_score = None, -1.0
        for candidate in self.proteins:
            matcher.set_seq1(candidate)
            if matcher.real_quick_ratio() <= best_score or matcher.quick_ratio() <= best_score:
                continue
            score = matcher.ratio()
            if score > best_score:
                best, best_score = candidate, score
        return best

    def predict(self, wild_type: str, mutation: str) -> str:
        position = parse_mutations(mutation)[0].position
        entries = self.by_protein[self.nearest_protein(wild_type)]
        return min(entries, key=lambda entry: abs(entry[0] - position))[1]
