"""A correct variant: a plain loop over the rows, a fraction turned into percent at the end."""


def accuracy(labels_onehot, probs):
    right = 0
    for label_row, prob_row in zip(labels_onehot, probs):
        best = max(range(len(prob_row)), key=lambda j: prob_row[j])
        right += int(label_row[best] == 1)
    return right * 100 / len(probs)
