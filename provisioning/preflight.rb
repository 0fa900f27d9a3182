# -*- mode: ruby -*-
# vi: set ft=ruby :
#
# The preflight of the Vagrantfile (which loads this file): what stops a `vagrant up`
# on a learner's laptop, checked before anything boots. Each problem gets one message
# that says what to do. It reads the Vagrantfile's settings (WEB_PORT, HOST_PORT, BOX,
# HOST_ARCH); tests/vm/test_vagrantfile.py tries every message with the real Vagrant.

PROJECT_ROOT = File.expand_path("..", __dir__)  # the folder of the Vagrantfile

require "socket"

# The oldest Vagrant that runs each VirtualBox (Vagrant's CHANGELOG: VirtualBox 7.0 in
# 2.3.2, 7.1 in 2.4.2 (GH-13513), 7.2 in 2.4.9 (GH-13709)). README's "What you need"
# and INSTRUCTORS.md copy these pairs (tests/vm/test_vagrantfile.py compares them); a
# VirtualBox newer than this list is left to Vagrant to judge.
VAGRANT_FOR_VIRTUALBOX = { "7.0" => "2.3.2", "7.1" => "2.4.2", "7.2" => "2.4.9" }.freeze

# The free disk `vagrant up` needs (GiB): the box, the VM's copy of it, the images
# (compressed and unpacked) and step 7's archive. README says "about 4 GiB": a figure
# to be measured on a real VM; README and INSTRUCTORS.md copy it (the same test).
DISK_NEEDED_GIB = 4

# The checks live in a module of their own, so that their names cannot meet
# Vagrant's own.
module Preflight
  module_function

  # How to set a setting for one `vagrant up`, in each shell a learner may use.
  def in_every_shell(name, value)
    "  bash, zsh:   #{name}=#{value} vagrant up\n" \
    "  PowerShell:  $env:#{name}=\"#{value}\"; vagrant up\n" \
    "  cmd:         set #{name}=#{value}   then   vagrant up"
  end

  # The Vagrant command being run (up, reload, ssh...): ARGV is Vagrant's own.
  def vagrant_command
    ARGV.find { |arg| !arg.start_with?("-") }
  end

  # Where Vagrant keeps the VM's id once it has created it, per provider: .vagrant/ in
  # the project folder, or VAGRANT_DOTFILE_PATH.
  def machine_id_file(provider)
    dotfiles = File.expand_path(ENV.fetch("VAGRANT_DOTFILE_PATH", ".vagrant"), PROJECT_ROOT)
    File.join(dotfiles, "machines", "default", provider, "id")
  end

  # The provider this command uses. The VirtualBox checks must run before Vagrant loads
  # the provider (it stops on an unsupported VirtualBox itself, with a vaguer message),
  # so they cannot wait for a provider's hook: the provider is what `--provider` names,
  # else the one the VM was created with (.vagrant/machines), else
  # VAGRANT_DEFAULT_PROVIDER, else virtualbox (the first provider this file configures).
  def provider_in_use
    ARGV.each_with_index do |arg, i|
      return arg.split("=", 2)[1] if arg.start_with?("--provider=")
      return ARGV[i + 1] if arg == "--provider"
    end
    created = Dir.glob(machine_id_file("*")).first
    return File.basename(File.dirname(created)) if created
    ENV.fetch("VAGRANT_DEFAULT_PROVIDER", "virtualbox")
  end

  # VirtualBox's VBoxManage: on PATH, or (on Windows) where VirtualBox's installer says.
  def vboxmanage
    found = Vagrant::Util::Which.which("VBoxManage")
    return found if found
    %w[VBOX_MSI_INSTALL_PATH VBOX_INSTALL_PATH].flat_map { |var| ENV[var].to_s.split(";") }
      .map { |dir| File.join(dir, "VBoxManage.exe") }.find { |path| File.file?(path) }
  end

  # Runs a program and gives back what it printed, or nil if it could not run.
  def output_of(*command)
    out = IO.popen(command, err: File::NULL, &:read)
    $?.success? ? out : nil
  rescue SystemCallError
    nil
  end

  # VirtualBox's version ("7.1.4" from "7.1.4r165100"), or nil without VBoxManage
  # (a libvirt user's laptop). Warnings may come before the version line.
  def virtualbox_version
    tool = vboxmanage or return nil
    line = output_of(tool, "--version").to_s.lines.map(&:strip).grep(/\A\d+\.\d+\.\d+/).last
    line && line[/\A\d+\.\d+\.\d+/]
  end

  # Problem: this Vagrant does not know this VirtualBox.
  def version_problem
    return nil unless provider_in_use == "virtualbox"
    found = virtualbox_version or return nil
    needed = VAGRANT_FOR_VIRTUALBOX[found[/\A\d+\.\d+/]] or return nil
    return nil if Gem::Version.new(Vagrant::VERSION) >= Gem::Version.new(needed)
    runs = VAGRANT_FOR_VIRTUALBOX.keys.select do |vbox|
      Gem::Version.new(Vagrant::VERSION) >= Gem::Version.new(VAGRANT_FOR_VIRTUALBOX[vbox])
    end.last
    "VirtualBox #{found} needs Vagrant #{needed} or newer, and this is Vagrant " \
    "#{Vagrant::VERSION}. Install Vagrant #{needed} or newer " \
    "(https://developer.hashicorp.com/vagrant/install)" +
      (runs ? ", or VirtualBox #{runs} (the newest this Vagrant runs)." : ".")
  end

  # Is our own VM running? Then its port forward holds HOST_PORT, rightly.
  def vm_running?
    id_file = machine_id_file(provider_in_use)
    return false unless File.file?(id_file)
    return true unless provider_in_use == "virtualbox"   # libvirt: left to Vagrant's own check
    tool = vboxmanage or return false
    output_of(tool, "showvminfo", File.read(id_file).strip, "--machinereadable").to_s
      .include?('VMState="running"')
  end

  # Can a program listen on this port of this computer (127.0.0.1, as the forward does)?
  def port_free?(port)
    TCPServer.new("127.0.0.1", port).close
    true
  rescue SystemCallError
    false
  end

  # Problem: another program (Jenkins, Tomcat, another VM) holds the laptop's port.
  # Checked for `vagrant up` and `vagrant reload` only, and not while our VM runs.
  def port_problem
    return nil unless %w[up reload].include?(vagrant_command)
    return nil if vm_running? || port_free?(HOST_PORT)
    other = ((HOST_PORT + 1)..[HOST_PORT + 100, 65_535].min).find { |port| port_free?(port) }
    "Port #{HOST_PORT} on this computer is taken by another program, and the workshop's " \
    "server would show there (http://localhost:#{HOST_PORT}). Pick another port for " \
    "your computer's side; inside the VM the server keeps port #{WEB_PORT}:\n" +
      in_every_shell("WORKSHOP_HOST_PORT", other || HOST_PORT + 1) +
      "\nThen open http://localhost:#{other || HOST_PORT + 1} where the steps say " \
      "http://localhost:#{WEB_PORT}."
  end

  # Free space (GiB) where Vagrant keeps boxes and VirtualBox its VMs (your home folder
  # by default), or nil if it cannot be read.
  def free_disk_gib
    home = Dir.home
    if Gem.win_platform?
      free = output_of("powershell", "-NoProfile", "-Command",
                       "[System.IO.DriveInfo]::new('#{home[0]}').AvailableFreeSpace")
      free && free.strip =~ /\A\d+\z/ ? free.to_i / 2.0**30 : nil
    else
      kib = output_of("df", "-Pk", home).to_s.lines.last.to_s.split[3]
      kib =~ /\A\d+\z/ ? kib.to_i / 2.0**20 : nil
    end
  end

  # Problem: not enough free disk for a first `vagrant up` with VirtualBox (libvirt keeps
  # its VMs in its own storage pool, outside your home folder).
  def disk_problem
    return nil unless vagrant_command == "up" && provider_in_use == "virtualbox"
    return nil if File.file?(machine_id_file(provider_in_use))   # the VM exists already
    free = free_disk_gib or return nil
    return nil if free >= DISK_NEEDED_GIB
    "Only #{format('%.1f', free)} GiB of disk are free in #{Dir.home}, and the workshop's " \
    "VM needs about #{DISK_NEEDED_GIB} GiB (the box, the VM and the images). Free some " \
    "space, then run vagrant up again."
  end

  # The processor a venue kit was built for: provisioning/kit.sh names the box
  # docker-workshop-amd64 or docker-workshop-arm64.
  def kit_arch
    BOX[/\Adocker-workshop-(amd64|arm64)\z/, 1]
  end

  # Problem: a venue kit built on the other processor type (an Intel box on Apple
  # Silicon, or the reverse) does not boot.
  def kit_problem
    return nil if kit_arch.nil? || kit_arch == HOST_ARCH
    "The venue kit #{BOX} was built for #{kit_arch} processors, and this computer has " \
    "an #{HOST_ARCH} one: that box cannot boot here. Ask your instructor for the kit " \
    "docker-workshop-<date>-#{HOST_ARCH}.box, then:\n" \
    "  vagrant box add --name docker-workshop-#{HOST_ARCH} " \
    "docker-workshop-<date>-#{HOST_ARCH}.box\n" +
      in_every_shell("WORKSHOP_BOX", "docker-workshop-#{HOST_ARCH}")
  end

  # Windows runs its own hypervisor (Hyper-V, used by WSL 2, Docker Desktop, Windows
  # Sandbox, Memory Integrity): Win32_ComputerSystem's HypervisorPresent says so
  # without administrator rights. The program is named powershell only on Windows.
  def hyperv_in_use?
    return false unless %w[up reload].include?(vagrant_command) &&
                        provider_in_use == "virtualbox" &&
                        Vagrant::Util::Which.which("powershell")
    output_of("powershell", "-NoProfile", "-Command",
              "(Get-CimInstance Win32_ComputerSystem).HypervisorPresent").to_s.strip == "True"
  end

  # A warning, not a stop: VirtualBox still runs on Hyper-V, slowly.
  HYPERV_WARNING = "Warning: Windows is running its Hyper-V hypervisor (for WSL 2, " \
    "Docker Desktop, Windows Sandbox or Memory Integrity), so VirtualBox runs the VM on " \
    "Hyper-V's slower backend (a green turtle in the VM window's status bar): `vagrant up` " \
    "and the steps can take several times longer. For full speed, in an administrator's " \
    "prompt: bcdedit /set hypervisorlaunchtype off, turn Memory Integrity off (Windows " \
    "Security, Core isolation), then restart Windows. WSL 2 and Docker Desktop stop " \
    "working until bcdedit /set hypervisorlaunchtype auto turns it back on."

  # Vagrant commands that load this file but never touch the VM: nothing to check.
  COMMANDS_WITHOUT_VM = %w[box cloud global-status help init list-commands login plugin
                           version].freeze

  # Runs every check, prints each problem, and stops before anything boots.
  def run
    return if vagrant_command.nil? || COMMANDS_WITHOUT_VM.include?(vagrant_command)
    $stderr.puts HYPERV_WARNING if hyperv_in_use?   # (warn is silent under Vagrant)
    problems = [version_problem, kit_problem, port_problem, disk_problem].compact
    return if problems.empty?
    abort "The workshop's VM cannot start yet:\n\n" + problems.join("\n\n")
  end
end
