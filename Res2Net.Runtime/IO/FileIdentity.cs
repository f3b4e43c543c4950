using System.Runtime.InteropServices;

namespace Res2Net.Runtime.IO;

/// <summary>What stat(2) says a file is: a regular file, a directory, or something else (device, pipe, socket).</summary>
internal enum FileKind
{
    Regular,
    Directory,
    Other,
}

/// <summary>
/// The file a path names, as stat(2) reports it (following symbolic links): device and inode, which two paths share
/// exactly when they name the same file whatever links, <c>./</c> or <c>..</c> lie between them, and the file's kind.
/// .NET 10 exposes neither inodes nor file types beyond directories, so this calls libc's <c>stat</c> (exported since
/// glibc 2.33; musl always). Its first fields, st_dev and st_ino, are 8 bytes each at offsets 0 and 8 on every 64-bit
/// Linux; st_mode is at 24 on x86-64 and 16 on the asm-generic layout (arm64, riscv64, loongarch64). Elsewhere, or when
/// the call is missing, <see cref="Of"/> returns null and <see cref="SameFile(string, string)"/> compares full paths instead.
/// </summary>
internal readonly partial record struct FileIdentity(ulong Device, ulong Inode, FileKind Kind)
{
    private const int StatBufferBytes = 256; // struct stat is 144 bytes on x86-64, 128 on arm64
    private const uint TypeMask = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000;

    private static readonly int ModeOffset = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.Ppc64le or Architecture.S390x => 24,
        Architecture.Arm64 or Architecture.RiscV64 or Architecture.LoongArch64 => 16,
        _ => -1,
    };

    private static bool _unavailable = !OperatingSystem.IsLinux() || !Environment.Is64BitProcess || ModeOffset < 0;

    /// <summary>The identity of the file at <paramref name="path"/>; null when it does not exist, cannot be examined, or stat is unavailable here.</summary>
    public static unsafe FileIdentity? Of(string path)
    {
        if (_unavailable) return null;
        byte* buffer = stackalloc byte[StatBufferBytes];
        try
        {
            if (Stat(path, buffer) != 0) return null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true; // glibc before 2.33 exports only __xstat
            return null;
        }
        uint type = *(uint*)(buffer + ModeOffset) & TypeMask;
        var kind = type == RegularType ? FileKind.Regular : type == DirectoryType ? FileKind.Directory : FileKind.Other;
        return new FileIdentity(*(ulong*)buffer, *(ulong*)(buffer + 8), kind);
    }

    /// <summary>
    /// True when <paramref name="a"/> and <paramref name="b"/> name the same file: same device and inode when both
    /// exist; when neither exists, the same name in the same folder (compared the same way, so a symlinked folder
    /// counts). Without stat, full paths are compared.
    /// </summary>
    public static bool SameFile(string a, string b) => SameFile(Path.GetFullPath(a), Of(a), Path.GetFullPath(b), Of(b));

    /// <summary><see cref="SameFile(string, string)"/> on full paths whose identities were already taken (null: missing).</summary>
    public static bool SameFile(string fullA, FileIdentity? identityA, string fullB, FileIdentity? identityB)
    {
        if (_unavailable) return string.Equals(fullA, fullB, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        if (identityA is { } x && identityB is { } y) return x.Device == y.Device && x.Inode == y.Inode;
        if (identityA != null || identityB != null) return false;
        string? folderA = Path.GetDirectoryName(fullA), folderB = Path.GetDirectoryName(fullB);
        if (folderA == null || folderB == null) return string.Equals(fullA, fullB, StringComparison.Ordinal);
        return string.Equals(Path.GetFileName(fullA), Path.GetFileName(fullB), StringComparison.Ordinal) && SameFile(folderA, folderB);
    }

    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Stat(string path, byte* buffer);
}
