using System.Diagnostics;
using System.Runtime.InteropServices;
using Res2Net.Cli;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Xunit;
using static Res2Net.Tests.Cli.OutputSafetyTests;

namespace Res2Net.Tests.Cli;

/// <summary>
/// Issue 13: a write that fails part-way (a full disk, Ctrl-C) is exit 2 (or the signal's own ending) with the file
/// that was there untouched and no temporary file left. The full disk is simulated through
/// <see cref="AtomicFileWriter"/>'s stream seam for every writer, and made real on a 1 MiB tmpfs where mounting is allowed.
/// </summary>
public class FullDiskTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;
    private const int ENOSPC = 28;

    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-full-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Takes the first <paramref name="room"/> bytes, then fails as write(2) does on a full disk.</summary>
    private sealed class FullDiskStream(Stream inner, int room) : Stream
    {
        private long _written;

        public override bool CanRead => false;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => inner.SetLength(value);
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int fits = (int)Math.Clamp(room - _written, 0, buffer.Length);
            inner.Write(buffer[..fits]);
            _written += fits;
            if (fits < buffer.Length) throw new IOException("No space left on device", ENOSPC);
        }
    }

    /// <summary>Each writer, with a file of its kind already at its output: (output, existing bytes, arguments).</summary>
    public static TheoryData<string> Writers => new() { "convert", "export", "predict --features", "predict --save-logits", "test --out" };

    private (string Output, string[] Args) Setup(string writer)
    {
        string dir = TempDir();
        switch (writer)
        {
            case "convert":
            {
                string output = SmallSafetensors(dir, "out.safetensors");
                return (output, ["convert", Fixtures.Path("tiny-plain.pth"), output]);
            }
            case "export":
            {
                string output = Path.Combine(dir, "out.onnx");
                File.WriteAllBytes(output, [0x08, 0x07, 0x12, 0x03, (byte)'o', (byte)'l', (byte)'d']); // ir_version 7, producer_name "old"
                return (output, ["export", "--model", W14, "--seeded", "-o", output]);
            }
            case "predict --features":
            {
                string output = Npy224(dir, "x.layer1.npy");
                return (output, ["predict", Npy224(TempDir(), "x.npy"), "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--features", dir, "--out-indices", "1"]);
            }
            case "predict --save-logits":
            {
                string output = Npy224(dir, "logits.npy");
                return (output, ["predict", Npy224(TempDir(), "x.npy"), "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--save-logits", output]);
            }
            default:
            {
                string output = Path.Combine(dir, "results.json");
                File.WriteAllText(output, "{\n  \"model\": \"an earlier run\",\n  \"checkpoint\": \"x.pth\"\n}\n");
                string ann = Path.Combine(TempDir(), "val.txt");
                File.WriteAllText(ann, "bird.JPEG 95\n");
                return (output, ["test", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--data", SeededCheckpoint.DemoDir, "--ann-file", ann, "--out", output]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public void AFullDiskIsExit2NamingTheFileAndLeavesItAsItWas(string writer)
    {
        var (output, args) = Setup(writer);
        byte[] before = Digest(output);
        var entries = Directory.GetFileSystemEntries(Path.GetDirectoryName(output)!).Order().ToArray();

        (int Code, string Out, string Err) run = (0, "", "");
        AtomicFileWriter.WithStreamWrapper(stream => new FullDiskStream(stream, room: 100), () => run = CliTests.Run(args));

        Assert.True(run.Code == CliApp.UserError, $"exit {run.Code}: {run.Err}");
        string line = Assert.Single(run.Err.Split('\n'), l => l.StartsWith("res2net: error: ", StringComparison.Ordinal));
        Assert.Contains(output, line);
        Assert.Contains("no space left on the device", line);
        Assert.Equal(before, Digest(output));
        Assert.Equal(entries, Directory.GetFileSystemEntries(Path.GetDirectoryName(output)!).Order());
    }

    [TmpfsFact]
    public void AReallyFullDiskIsExit2AndLeavesNoPartialFile()
    {
        string mount = TempDir();
        Mount(mount);
        try
        {
            // convert streams a 100 MB checkpoint into 1 MiB; --features writes a 3.2 MB layer1 map.
            string converted = Path.Combine(mount, "out.safetensors");
            SafetensorsWriter.Write(converted, [], new Dictionary<string, string> { ["note"] = "an earlier file" });
            string feature = Path.Combine(mount, "x.layer1.npy");
            Npy.Write(feature, [1f, 2f], [2]);
            byte[] convertedBefore = Digest(converted), featureBefore = Digest(feature);

            var convert = CliTests.Run("convert", SeededCheckpoint.Path, converted);
            var predict = CliTests.Run("predict", Npy224(TempDir(), "x.npy"), "--model", W14, "--checkpoint", SeededCheckpoint.Path,
                "--features", mount, "--out-indices", "1");

            foreach (var (run, file, before) in new[] { (convert, converted, convertedBefore), (predict, feature, featureBefore) })
            {
                Assert.True(run.Code == CliApp.UserError, $"exit {run.Code}: {run.Err}");
                Assert.Contains($"res2net: error: {file}: cannot write: no space left on the device", run.Err);
                Assert.Equal(before, Digest(file));
            }
            Assert.Equal(["out.safetensors", "x.layer1.npy"], Directory.GetFileSystemEntries(mount).Select(Path.GetFileName).Order());
        }
        finally
        {
            Unmount(mount);
        }
    }

    /// <summary>
    /// Ctrl-C ends a .NET process without running finally blocks; the writer's signal handler must still delete its
    /// temporary files. A child <c>res2net predict</c> runs a first batch of 16 tensors, writes their feature files,
    /// then waits on its 17th input, a named pipe nobody writes: it is interrupted there, with the files pending. None
    /// may remain, and the earlier file of the same name is unchanged.
    /// </summary>
    [Fact]
    public void CtrlCDeletesTheTemporaryFiles()
    {
        string dir = TempDir(), inputs = TempDir();
        string earlier = Npy224(dir, "x_0.layer4.npy");
        byte[] before = Digest(earlier);
        string blocked = Path.Combine(inputs, "never-written.png");
        Assert.Equal(0, MakeFifo(blocked, 0x1B6));
        using var child = StartCli("predict", Npy224(inputs, "x.npy", count: 16), blocked, "--model", W14, "--checkpoint", SeededCheckpoint.Path,
            "--features", dir, "--out-indices", "4");
        try
        {
            var deadline = DateTime.UtcNow.AddMinutes(3);
            while (Directory.GetFiles(dir, "*.partial").Length < 16 && !child.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
            if (child.HasExited) Assert.Fail($"res2net ended before it was interrupted: {child.StandardError.ReadToEnd()}");
            Assert.Equal(16, Directory.GetFiles(dir, "*.partial").Length);
            // A shell without job control starts background jobs with SIGINT ignored; then SIGTERM stands in (same handler).
            int signal = IgnoresSigint(child.Id) ? SIGTERM : SIGINT;
            Assert.Equal(0, Kill(child.Id, signal));
            Assert.True(child.WaitForExit(60_000), "res2net did not end after the signal");
            Assert.Equal(128 + signal, child.ExitCode);
        }
        finally
        {
            if (!child.HasExited) child.Kill();
        }
        Assert.Equal(["x_0.layer4.npy"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));
        Assert.Equal(before, Digest(earlier));
    }

    private static Process StartCli(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "res2net.dll");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(dll);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static bool IgnoresSigint(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line != null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (SIGINT - 1))) != 0;
    }

    private const int SIGINT = 2, SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    internal static void Mount(string path) => Execute("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", path);

    internal static void Unmount(string path) => Execute("umount", path);

    internal static bool Execute(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in command[1..]) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            string err = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(" ", command)}: {err.Trim()}");
            return true;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{command[0]}: {e.Message}", e);
        }
    }
}

/// <summary>
/// A fact that needs a real full disk: a 1 MiB tmpfs mounted for the test. Skipped, saying why, where mounting is not
/// allowed (not root, no CAP_SYS_ADMIN, a container without it); the seam test above covers the same code there.
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> WhyNot = new(Probe);

    public TmpfsFactAttribute()
    {
        if (WhyNot.Value is { } reason) Skip = $"cannot mount a tmpfs here ({reason}); the simulated full disk still runs";
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        string dir = TempFolders.Create("res2net-tmpfs-probe-").FullName;
        try
        {
            FullDiskTests.Mount(dir);
            FullDiskTests.Unmount(dir);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
        finally
        {
            Directory.Delete(dir);
        }
    }
}
