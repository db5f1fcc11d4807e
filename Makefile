# Rampart: plain make, no autotools.
#
#   make                 build everything into build/ (binaries in build/bin)
#   make check           install missing Debian packages, build, run all tests
#   make check SAN=1     the same with ASan+UBSan (into build/san)
#   make fuzz            run every fuzz target for FUZZ_SECONDS (default 600)
#   make install         PREFIX=/usr/local DESTDIR=
#   make deps            apt-get install what building and testing need
#   CI=true              warnings are errors;  V=1  show commands

PREFIX		?= /usr/local
DESTDIR		?=
SAN		?= 0
V		?= 0
FUZZ_SECONDS	?= 600
FUZZ_SMOKE	?= 30

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Messages go into fixed-size buffers and are cut on purpose when long, so
# gcc's guesses about snprintf truncation are noise here.
WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wstrict-prototypes -Wmissing-prototypes -Wno-format-truncation
ifeq ($(CI),true)
WARN	+= -Werror
endif

ifeq ($(SAN),1)
BUILD	:= build/san
OPT	:= -O1 -g -fno-omit-frame-pointer \
	   -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN	:= -fsanitize=address,undefined
else
BUILD	:= build
OPT	:= -O2 -g -D_FORTIFY_SOURCE=3
LDSAN	:=
endif

HARDEN	:= -fstack-protector-strong -fstack-clash-protection \
	   -fcf-protection -fPIE
CFLAGS	?=
CPPFLAGS += -D_GNU_SOURCE -Ipolicy -Ictl
ALL_CFLAGS = -std=c11 $(OPT) $(HARDEN) $(WARN) -MMD -MP $(CFLAGS)
LDFLAGS	+= -pie -Wl,-z,relro,-z,now,-z,noexecstack $(LDSAN)

LIBS_POLICY := -lsodium

POLICY_SRC := $(wildcard policy/*.c)
CTL_SRC    := $(wildcard ctl/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)

POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/obj/%.o)
CTL_OBJ    := $(CTL_SRC:%.c=$(BUILD)/obj/%.o)
LIBPOLICY  := $(BUILD)/lib/libpolicy.a
BIN        := $(BUILD)/bin/rampartctl
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Fuzzers always build with clang's libFuzzer, ASan and UBSan.
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all -D_GNU_SOURCE -Ipolicy

DEPS := build-essential libssh-dev libsodium-dev libcmocka-dev clang \
	libclang-rt-14-dev binutils

.PHONY: all check check-run unit ctl-tests fuzz-smoke fuzz install deps \
	clean hardening

all: $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBPOLICY): $(POLICY_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(AR) rcs $@ $^

$(BIN): $(CTL_OBJ) $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_POLICY)

$(BUILD)/tests/%: tests/unit/%.c $(LIBPOLICY)
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBPOLICY) \
		$(LIBS_POLICY) -lcmocka

build/fuzz/%: tests/fuzz/%.c $(POLICY_SRC)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_FLAGS) -o $@ $< $(POLICY_SRC) $(LIBS_POLICY)

# check installs what is missing first, then builds and tests in a
# second make so that nothing is compiled before the headers exist.
check: deps
	$(Q)$(MAKE) --no-print-directory check-run

# The fuzzers are ASan+UBSan builds already, and the sanitizer build is
# not the one we ship: SAN=1 skips the fuzz smoke run and the hardening
# check.
ifeq ($(SAN),1)
check-run: $(BIN) $(UNIT_BIN)
	$(Q)$(MAKE) --no-print-directory unit ctl-tests
	@echo "check (ASan+UBSan): all tests passed"
else
check-run: $(BIN) $(UNIT_BIN) $(FUZZ_BIN)
	$(Q)$(MAKE) --no-print-directory unit ctl-tests fuzz-smoke hardening
	@echo "check: all tests passed"
endif

unit: $(UNIT_BIN)
	$(Q)for t in $(UNIT_BIN); do \
		echo "== $$t"; \
		RAMPART_TESTDATA=tests/data $$t || exit 1; \
	done

ctl-tests: $(BIN)
	$(Q)for t in tests/ctl/*.sh; do \
		echo "== $$t"; \
		RAMPARTCTL=$(BIN) sh $$t || exit 1; \
	done

hardening: $(BIN)
	$(Q)sh tests/hardening.sh $(BIN) --objs $(POLICY_OBJ) $(CTL_OBJ)

fuzz-smoke: $(FUZZ_BIN)
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SMOKE) $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	$(Q)sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/rampartctl
	install -m 0644 docs/rampartctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# Idempotent, and silent when everything is already installed.
deps:
	@missing=""; for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		    grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "deps: missing:$$missing (run 'make deps' as root)" >&2; \
			exit 1; \
		fi; \
		echo "deps: installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq --no-install-recommends $$missing \
		    >/dev/null || exit 1; \
	fi

clean:
	rm -rf build

-include $(POLICY_OBJ:.o=.d) $(CTL_OBJ:.o=.d)
