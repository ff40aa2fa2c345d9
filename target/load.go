package target

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// field binds one Config field to its flag, environment variable and
// profile key. Keeping the three names in one table keeps them in step.
type field struct {
	flag, env, help string
	get             func(*Config) string
	set             func(*Config, string) error
	boolean         bool // --flag alone means true
}

func str(p func(*Config) *string) (func(*Config) string, func(*Config, string) error) {
	return func(c *Config) string { return *p(c) }, func(c *Config, v string) error { *p(c) = v; return nil }
}

var fields = func() []field {
	named := func(name, help string) field {
		return field{flag: "ftp." + name, env: "FTPH_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")), help: help}
	}
	mk := func(name, help string, p func(*Config) *string) field {
		f := named(name, help)
		f.get, f.set = str(p)
		return f
	}
	mkBool := func(name, help string, p func(*Config) *bool) field {
		f := named(name, help)
		f.boolean = true
		f.get = func(c *Config) string { return strconv.FormatBool(*p(c)) }
		f.set = func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%q is not true or false", v)
			}
			*p(c) = b
			return nil
		}
		return f
	}
	return []field{
		mk("addr", "control address host:port of the server under test (empty: start the embedded server)", func(c *Config) *string { return &c.Addr }),
		mk("url", "ftp://user:pass@host:port (sets addr, user and password)", func(c *Config) *string { return &c.URL }),
		mk("user", "user name (default "+DefaultUser+" for the embedded server)", func(c *Config) *string { return &c.User }),
		mk("password", "password", func(c *Config) *string { return &c.Password }),
		mk("pasv-range", "passive port range the server is configured with, lo-hi (enables RANGE checks)", func(c *Config) *string { return &c.PasvRange }),
		mkBool("pasv-ephemeral", "the server has no passive range setting and takes passive ports from the kernel's ephemeral range (lets --workers default to 4)", func(c *Config) *bool { return &c.PasvEphemeral }),
		mk("pasv-address", "address the server must advertise in 227 (masquerade); default: the address dialled", func(c *Config) *string { return &c.PasvAddress }),
		mk("foreign-source", "loopback source address used to play a foreign data peer", func(c *Config) *string { return &c.ForeignSource }),
		mk("third-party", "loopback address where the harness catches bounce (PORT/EPRT) connections", func(c *Config) *string { return &c.ThirdParty }),
		mk("scratch-dir", "server directory under which checks create their files", func(c *Config) *string { return &c.ScratchDir }),
		mk("tls", "FTPS mode: off, explicit (AUTH TLS) or implicit (TLS before the greeting); ftpes:// and ftps:// URLs set it", func(c *Config) *string { return &c.TLS }),
		mk("tls-ca", "PEM file of the CA the server certificate must chain to (default: the system pool)", func(c *Config) *string { return &c.TLSCA }),
		mkBool("tls-insecure", "do not verify the server certificate (said in transcripts and reports)", func(c *Config) *bool { return &c.TLSInsecure }),
		mk("embedded-server", "server started in-process when no target is given (ftpserverlib, goftp)", func(c *Config) *string { return &c.EmbeddedServer }),
		{flag: "ftp.timeout", env: "FTPH_TIMEOUT", help: "deadline for each network operation",
			get: func(c *Config) string { return c.Timeout.String() },
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("%q is not a duration (e.g. 10s)", v)
				}
				c.Timeout = d
				return nil
			}},
		{flag: "ftp.features", env: "FTPH_FEATURES", help: "features the operator declares, comma-separated: " + strings.Join(KnownFeatures, ", "),
			get: func(c *Config) string { return strings.Join(c.Features, ",") },
			set: func(c *Config, v string) error {
				c.Features = nil
				for _, f := range strings.Split(v, ",") {
					if f = strings.TrimSpace(f); f != "" {
						c.Features = append(c.Features, f)
					}
				}
				return nil
			}},
	}
}()

// Flags holds flag values until Resolve merges them.
type Flags struct {
	fs      *flag.FlagSet
	values  map[string]*string
	profile *string
}

// RegisterFlags defines the --ftp.* flags on fs (flag.CommandLine when nil).
func RegisterFlags(fs *flag.FlagSet) *Flags {
	if fs == nil {
		fs = flag.CommandLine
	}
	f := &Flags{fs: fs, values: map[string]*string{}}
	def := Defaults()
	for _, fd := range fields {
		dv := fd.get(&def)
		help := fd.help + " [$" + fd.env + "]"
		v := &strFlag{s: dv, boolean: fd.boolean}
		fs.Var(v, fd.flag, help)
		f.values[fd.flag] = &v.s
	}
	f.profile = fs.String("ftp.profile", "", "profile file (YAML or JSON) with the same keys as the flags without the ftp. prefix [$FTPH_PROFILE]")
	return f
}

// strFlag is a flag's text; a boolean one may be given alone (--flag).
type strFlag struct {
	s       string
	boolean bool
}

func (f *strFlag) String() string     { return f.s }
func (f *strFlag) Set(v string) error { f.s = v; return nil }
func (f *strFlag) IsBoolFlag() bool   { return f.boolean }

// Resolve builds the Config: defaults < profile < FTPH_* environment <
// flags set on the command line. Call after fs.Parse. The result is
// validated; errors name the flag to fix.
func (f *Flags) Resolve() (Config, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return resolve(os.Getenv, func(name string) (string, bool) {
		if name == "ftp.profile" {
			return *f.profile, set[name]
		}
		return *f.values[name], set[name]
	})
}

func resolve(getenv func(string) string, flagValue func(string) (string, bool)) (Config, error) {
	cfg := Defaults()
	profile := getenv("FTPH_PROFILE")
	if v, ok := flagValue("ftp.profile"); ok {
		profile = v
	}
	if profile != "" {
		if err := loadProfile(profile, &cfg); err != nil {
			return cfg, fmt.Errorf("--ftp.profile: %v", err)
		}
		cfg.Profile = profile
	}
	for _, fd := range fields {
		if v := getenv(fd.env); v != "" {
			if err := fd.set(&cfg, v); err != nil {
				return cfg, fmt.Errorf("$%s: %v", fd.env, err)
			}
		}
	}
	for _, fd := range fields {
		if v, ok := flagValue(fd.flag); ok {
			if err := fd.set(&cfg, v); err != nil {
				return cfg, fmt.Errorf("--%s: %v", fd.flag, err)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// loadProfile reads a YAML or JSON profile. Keys are the flag names
// without "ftp." (addr, user, password, pasv-range, ...); timeout is a Go
// duration string.
func loadProfile(path string, cfg *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	raw := map[string]any{}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		err = json.Unmarshal(b, &raw)
	} else {
		err = yaml.Unmarshal(b, &raw)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	byKey := map[string]field{}
	for _, fd := range fields {
		byKey[strings.TrimPrefix(fd.flag, "ftp.")] = fd
	}
	for k, v := range raw {
		fd, ok := byKey[k]
		if !ok {
			if k == "server" { // written by Config.WriteProfile for information
				continue
			}
			return fmt.Errorf("%s: unknown key %q", path, k)
		}
		var s string
		switch x := v.(type) {
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, ",")
		default:
			s = fmt.Sprint(x)
		}
		if err := fd.set(cfg, s); err != nil {
			return fmt.Errorf("%s: key %s: %v", path, k, err)
		}
	}
	return nil
}

// WriteProfile writes the connection fields of c (server, address,
// credentials, passive range and address, TLS mode and trust, declared
// features) as a YAML profile that
// --ftp.profile=PATH reads back. The file holds the password: mode 0600.
func (c Config) WriteProfile(path string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# written by ftpharness for %s\n", c.Server)
	fmt.Fprintf(&b, "addr: %q\nuser: %q\npassword: %q\n", c.Addr, c.User, c.Password)
	if c.PasvRange != "" {
		fmt.Fprintf(&b, "pasv-range: %q\n", c.PasvRange)
	}
	if c.PasvEphemeral {
		b.WriteString("pasv-ephemeral: true\n")
	}
	if c.PasvAddress != "" {
		fmt.Fprintf(&b, "pasv-address: %q\n", c.PasvAddress)
	}
	if c.FTPS() {
		fmt.Fprintf(&b, "tls: %q\n", c.TLS)
	}
	if c.TLSCA != "" {
		fmt.Fprintf(&b, "tls-ca: %q\n", c.TLSCA)
	}
	if c.TLSInsecure {
		b.WriteString("tls-insecure: true\n")
	}
	if len(c.Features) > 0 {
		fmt.Fprintf(&b, "features: %q\n", strings.Join(c.Features, ","))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
