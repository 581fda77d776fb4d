# Warnings every target gets. -Werror only when MK_WERROR is on (CI sets it).
function(mk_set_warnings tgt)
  target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wconversion -Wshadow -Wvla
    -Wstrict-prototypes -Wmissing-prototypes)
  if(MK_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
endfunction()

if(MK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
endif()
