// This ISA path's table of kernels: the only symbol the runtime looks up.
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {

#define GDCORE_STEP(name)                                                           \
  void name##_step_f32(const void*, const ParamSlot<float>&, int64_t, int64_t);   \
  void name##_step_f64(const void*, const ParamSlot<double>&, int64_t, int64_t);
GDCORE_STEP(sgd)
GDCORE_STEP(adam)
GDCORE_STEP(rmsprop)
GDCORE_STEP(adagrad)
GDCORE_STEP(adadelta)
GDCORE_STEP(adamax)
GDCORE_STEP(nadam)
GDCORE_STEP(radam)
GDCORE_STEP(lion)
#undef GDCORE_STEP

double norm_block_f32(const float*, int64_t, int);
double norm_block_f64(const double*, int64_t, int);
void scale_f32(float*, int64_t, float);
void scale_f64(double*, int64_t, double);
void clamp_f32(float*, int64_t, float);
void clamp_f64(double*, int64_t, double);
void axpy_f32(float*, const float*, int64_t, float);
void axpy_f64(double*, const double*, int64_t, double);
float dot_f32(const float*, const float*, int64_t);
double dot_f64(const double*, const double*, int64_t);
float axpy_dot_f32(float*, const float*, float, const float*, int64_t);
double axpy_dot_f64(double*, const double*, double, const double*, int64_t);
void minibatch_block_f32(detail::MinibatchBlock<float>&);
void minibatch_block_f64(detail::MinibatchBlock<double>&);
void log_loss_values_f32(const float*, const float*, float*, int64_t);
void log_loss_values_f64(const double*, const double*, double*, int64_t);
void norm_sums_f32(const float*, int64_t, int64_t, int, double*, double*);
void norm_sums_f64(const double*, int64_t, int64_t, int, double*, double*);

#define GDCORE_STR2(x) #x
#define GDCORE_STR(x) GDCORE_STR2(x)

const detail::KernelTable& kernel_table() {
  static const detail::KernelTable table = {
      GDCORE_STR(GDCORE_ISA),
      {sgd_step_f32, adam_step_f32, rmsprop_step_f32, adagrad_step_f32, adadelta_step_f32,
       adamax_step_f32, nadam_step_f32, radam_step_f32, lion_step_f32},
      {sgd_step_f64, adam_step_f64, rmsprop_step_f64, adagrad_step_f64, adadelta_step_f64,
       adamax_step_f64, nadam_step_f64, radam_step_f64, lion_step_f64},
      norm_block_f32,
      norm_block_f64,
      scale_f32,
      scale_f64,
      clamp_f32,
      clamp_f64,
      axpy_f32,
      axpy_f64,
      dot_f32,
      dot_f64,
      axpy_dot_f32,
      axpy_dot_f64,
      minibatch_block_f32,
      minibatch_block_f64,
      log_loss_values_f32,
      log_loss_values_f64,
      norm_sums_f32,
      norm_sums_f64,
  };
  return table;
}

}  // namespace gd::GDCORE_ISA
