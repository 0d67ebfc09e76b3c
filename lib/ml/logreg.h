/* logreg.h — logistic regression on one feature row: p = σ(w·x + b), the kernel that the
 * trainer runs on each shard of a mini-batch (loss and gradient summed over the shard's rows). */
#ifndef BCF_ML_LOGREG_H
#define BCF_ML_LOGREG_H
#include <stddef.h>

/* Parameters θ = [w_0 .. w_{F-1}, b]; the first F (the weights) take the L2 penalty. */
size_t logreg_n_params(int F);
size_t logreg_n_decay(int F);
/* All zeros: the loss is convex, there is no symmetry to break. */
void logreg_init(int F, double *theta);
/* w·x + b, summed in index order starting from b. */
double logreg_logit(int F, const double *theta, const double *x);
/* For each rows[k] (a row index of the row-major X with F columns, label y[rows[k]] in {0,1}):
 * adds d loss / d θ into grad and returns the summed log-loss. */
double logreg_loss_grad(int F, const double *theta, const double *X, const signed char *y, const size_t *rows,
                        size_t nrows, double *grad);
#endif
