! Evaluate |M|^2 of a UMAMI library through the madnis-plugin bridge from Fortran.
! Usage: evaluate_process LIBRARY PARAM_CARD
! Reads NEVENTS and then NEVENTS x NPARTICLES lines "E px py pz" from stdin and
! prints per line |M|^2 from mp_evaluate and from mp_evaluate_columns (full
! precision) -- the test compares both with Python.
program evaluate_process
  use, intrinsic :: iso_c_binding
  use madnis_bridge
  implicit none
  character(len=4096) :: library, card
  character(kind=c_char, len=512) :: err
  type(c_ptr) :: lib
  integer(c_int) :: status, nparticles
  integer :: nevents, i, k
  real(c_double), allocatable, target :: p(:, :, :), p_columns(:, :, :), me2(:), me2_columns(:)

  call get_command_argument(1, library)
  call get_command_argument(2, card)
  status = mp_open(c_path(library), c_loc_string(c_path(card)), lib, err, 512_c_size_t)
  if (status /= 0) then
    write (0, '(a)') 'mp_open failed: ' // trim(err(1:index(err, c_null_char) - 1))
    stop 1
  end if
  nparticles = mp_particle_count(lib)
  read (*, *) nevents
  allocate (p(0:3, nparticles, nevents), me2(nevents), me2_columns(nevents))
  do i = 1, nevents
    do k = 1, nparticles
      read (*, *) p(:, k, i)
    end do
  end do
  status = mp_evaluate(lib, int(nevents, c_size_t), p, c_null_ptr, c_null_ptr, c_null_ptr, &
                       c_null_ptr, me2, c_null_ptr, c_null_ptr, c_null_ptr)
  if (status /= 0) then
    write (0, '(a)') 'mp_evaluate failed: ' // c_string_to_fortran(mp_error(lib))
    stop 2
  end if
  ! The same events with the event index fastest, UMAMI's own layout.
  p_columns = reshape(p, [nevents, nparticles, 4], order=[3, 2, 1])
  status = mp_evaluate_columns(lib, int(nevents, c_size_t), p_columns, c_null_ptr, c_null_ptr, &
                               c_null_ptr, c_null_ptr, me2_columns, c_null_ptr, c_null_ptr, c_null_ptr)
  if (status /= 0) then
    write (0, '(a)') 'mp_evaluate_columns failed: ' // c_string_to_fortran(mp_error(lib))
    stop 3
  end if
  do i = 1, nevents
    write (*, '(2es25.17)') me2(i), me2_columns(i)
  end do
  call mp_close(lib)

contains

  ! A C pointer to a NUL-terminated copy of a string (kept alive for the program's life).
  function c_loc_string(text) result(ptr)
    character(kind=c_char, len=*), intent(in) :: text
    type(c_ptr) :: ptr
    character(kind=c_char, len=:), allocatable, target, save :: keep
    keep = text
    ptr = c_loc(keep)
  end function

end program evaluate_process
