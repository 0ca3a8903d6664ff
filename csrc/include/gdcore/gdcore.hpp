// gdcore: gradient descent kernels.  Umbrella header of the public C++ API.
#pragma once

#include "gdcore/clip.hpp"
#include "gdcore/linear.hpp"
#include "gdcore/losses.hpp"
#include "gdcore/optim.hpp"
#include "gdcore/runtime.hpp"
