# WB_CUDA=AUTO|ON|OFF decides whether the CUDA backend module
# (lib/workbench/libwb_backend_cuda.so) is built. AUTO builds it when nvcc,
# the CUDA toolkit's cuBLAS and cuDNN are found and says in one status line
# why not otherwise; ON fails the configure instead. The core never links
# CUDA: it dlopens the module when an experiment asks for it.
# Sets WB_CUDA_ENABLED and, when it is ON, WB_CUDNN_INCLUDE_DIR / WB_CUDNN_LIBRARY, and WB_NCCL_ENABLED with
# WB_NCCL_INCLUDE_DIR / WB_NCCL_LIBRARY when NCCL is found too.
set(WB_CUDA_ENABLED OFF)
set(WB_NCCL_ENABLED OFF)

function(wb_cuda_missing_reason out)
  if(WB_FUZZ)
    # The harnesses' instrumentation (clang, -fsanitize=fuzzer) means nothing to nvcc, and fuzzing runs no GPU.
    set(${out} "WB_FUZZ builds the fuzz harnesses only" PARENT_SCOPE)
    return()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER OR (IS_ABSOLUTE "${CMAKE_CUDA_COMPILER}" AND NOT EXISTS "${CMAKE_CUDA_COMPILER}"))
    set(${out} "no nvcc found at '${CMAKE_CUDA_COMPILER}' (put it on PATH or set CMAKE_CUDA_COMPILER)" PARENT_SCOPE)
    return()
  endif()
  find_package(CUDAToolkit QUIET)
  if(NOT CUDAToolkit_FOUND OR NOT TARGET CUDA::cudart_static)
    set(${out} "the CUDA toolkit (static cudart) next to ${CMAKE_CUDA_COMPILER} was not found" PARENT_SCOPE)
    return()
  endif()
  if(NOT TARGET CUDA::cublas)
    set(${out} "cuBLAS was not found in ${CUDAToolkit_LIBRARY_DIR}" PARENT_SCOPE)
    return()
  endif()
  # cuDNN ships apart from the toolkit: beside it, under CUDNN_ROOT, or in the system's directories.
  find_path(WB_CUDNN_INCLUDE_DIR cudnn.h HINTS ENV CUDNN_ROOT ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
  find_library(WB_CUDNN_LIBRARY cudnn HINTS ENV CUDNN_ROOT ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
  if(NOT WB_CUDNN_INCLUDE_DIR OR NOT WB_CUDNN_LIBRARY)
    set(${out} "cuDNN (cudnn.h, libcudnn.so) was not found (set CUDNN_ROOT)" PARENT_SCOPE)
    return()
  endif()
  set(${out} "" PARENT_SCOPE)
endfunction()

set(WB_CUDA AUTO CACHE STRING "CUDA backend module: AUTO (when nvcc, cuBLAS and cuDNN are found), ON, OFF")
set_property(CACHE WB_CUDA PROPERTY STRINGS AUTO ON OFF)
if(NOT WB_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "WB_CUDA=${WB_CUDA}: expected AUTO, ON or OFF")
endif()
if(NOT WB_CUDA STREQUAL "OFF")
  wb_cuda_missing_reason(why)
  if(why AND WB_CUDA STREQUAL "ON")
    message(FATAL_ERROR "WB_CUDA=ON, but the CUDA backend cannot be built: ${why}")
  elseif(why)
    message(STATUS "CUDA backend module not built (WB_CUDA=AUTO): ${why}")
  else()
    # Fixed architectures, so a build does not depend on the GPU of the machine it runs on.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "80;90")
    endif()
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(WB_CUDA_ENABLED ON)
    message(STATUS "CUDA backend module: nvcc ${CMAKE_CUDA_COMPILER_VERSION}, sm ${CMAKE_CUDA_ARCHITECTURES}, "
                   "cuDNN ${WB_CUDNN_LIBRARY}")
    # NCCL (with the toolkit, or apart under NCCL_ROOT) for multi-GPU training's module, core/dist/nccl/.
    find_path(WB_NCCL_INCLUDE_DIR nccl.h HINTS ENV NCCL_ROOT ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
    find_library(WB_NCCL_LIBRARY nccl HINTS ENV NCCL_ROOT ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib lib64)
    if(WB_NCCL_INCLUDE_DIR AND WB_NCCL_LIBRARY)
      set(WB_NCCL_ENABLED ON)
    else()
      message(STATUS "NCCL module (libwb_dist_nccl.so) not built: nccl.h or libnccl.so not found (set NCCL_ROOT)")
    endif()
  endif()
endif()
