! madnis_bridge.f90 -- Fortran 2003 interfaces (ISO_C_BINDING) to the
! madnis-plugin bridge, libmadnis_bridge.so (see bridge.h).
!
! Momenta are passed as REAL(C_DOUBLE) P(0:3, NPARTICLES, NEVENTS): Fortran's
! column-major order makes that exactly the C layout [event][particle][mu].
!
! Example:
!     use madnis_bridge
!     type(c_ptr) :: lib
!     character(kind=c_char, len=512) :: err
!     real(c_double) :: p(0:3, 4, 1), me2(1)
!     if (mp_open(c_path("libee_mumu.so"), c_null_ptr, lib, err, 512_c_size_t) /= 0) stop 1
!     if (mp_evaluate(lib, 1_c_size_t, p, c_null_ptr, c_null_ptr, c_null_ptr, &
!                     c_null_ptr, me2, c_null_ptr, c_null_ptr, c_null_ptr) /= 0) stop 2
!     call mp_close(lib)
module madnis_bridge
  use, intrinsic :: iso_c_binding
  implicit none
  private
  public :: mp_open, mp_close, mp_evaluate, mp_evaluate_columns, mp_particle_count, mp_diagram_count, &
            mp_error, mp_set_parameter, c_path, c_string_to_fortran

  interface
    integer(c_int) function mp_open(path, param_card, lib, error, error_size) bind(c, name="mp_open")
      import :: c_int, c_char, c_ptr, c_size_t
      character(kind=c_char), dimension(*), intent(in) :: path
      type(c_ptr), value :: param_card
      type(c_ptr), intent(out) :: lib
      character(kind=c_char), dimension(*), intent(out) :: error
      integer(c_size_t), value :: error_size
    end function

    subroutine mp_close(lib) bind(c, name="mp_close")
      import :: c_ptr
      type(c_ptr), value :: lib
    end subroutine

    type(c_ptr) function mp_error(lib) bind(c, name="mp_error")
      import :: c_ptr
      type(c_ptr), value :: lib
    end function

    integer(c_int) function mp_particle_count(lib) bind(c, name="mp_particle_count")
      import :: c_int, c_ptr
      type(c_ptr), value :: lib
    end function

    integer(c_int) function mp_diagram_count(lib) bind(c, name="mp_diagram_count")
      import :: c_int, c_ptr
      type(c_ptr), value :: lib
    end function

    integer(c_int) function mp_set_parameter(lib, name, re, im) bind(c, name="mp_set_parameter")
      import :: c_int, c_ptr, c_char, c_double
      type(c_ptr), value :: lib
      character(kind=c_char), dimension(*), intent(in) :: name
      real(c_double), value :: re, im
    end function

    ! Optional arrays are passed as c_ptr: c_null_ptr, or c_loc(array).
    integer(c_int) function mp_evaluate(lib, count, momenta, alpha_s, flavor_index, &
                                        random_color, random_helicity, me2, amp2, &
                                        color_index, helicity_index) bind(c, name="mp_evaluate")
      import :: c_int, c_ptr, c_size_t, c_double
      type(c_ptr), value :: lib
      integer(c_size_t), value :: count
      real(c_double), dimension(*), intent(in) :: momenta
      type(c_ptr), value :: alpha_s, flavor_index, random_color, random_helicity
      real(c_double), dimension(*), intent(out) :: me2
      type(c_ptr), value :: amp2, color_index, helicity_index
    end function

    ! As mp_evaluate with momenta(count, particles, 0:3) and amp2(count, diagrams):
    ! the event index runs fastest, UMAMI's own layout, passed on without copies.
    integer(c_int) function mp_evaluate_columns(lib, count, momenta, alpha_s, flavor_index, &
                                                random_color, random_helicity, me2, amp2, &
                                                color_index, helicity_index) &
                                                bind(c, name="mp_evaluate_columns")
      import :: c_int, c_ptr, c_size_t, c_double
      type(c_ptr), value :: lib
      integer(c_size_t), value :: count
      real(c_double), dimension(*), intent(in) :: momenta
      type(c_ptr), value :: alpha_s, flavor_index, random_color, random_helicity
      real(c_double), dimension(*), intent(out) :: me2
      type(c_ptr), value :: amp2, color_index, helicity_index
    end function
  end interface

contains

  ! A NUL-terminated copy of a Fortran string, for path and name arguments.
  function c_path(text) result(out)
    character(len=*), intent(in) :: text
    character(kind=c_char, len=len_trim(text) + 1) :: out
    out = trim(text) // c_null_char
  end function

  ! The Fortran text of a NUL-terminated C string (e.g. from mp_error).
  function c_string_to_fortran(pointer) result(out)
    type(c_ptr), intent(in) :: pointer
    character(len=:), allocatable :: out
    character(kind=c_char), dimension(:), pointer :: chars
    integer :: n
    interface
      integer(c_size_t) function strlen(s) bind(c, name="strlen")
        import :: c_ptr, c_size_t
        type(c_ptr), value :: s
      end function
    end interface
    n = int(strlen(pointer))
    call c_f_pointer(pointer, chars, [n])
    allocate(character(len=n) :: out)
    out = transfer(chars(1:n), out)
  end function

end module madnis_bridge
