using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Res2Net.Tests.Imaging;

/// <summary>Just enough of the .npy format for these fixtures: version 1, C order, uint8 or little-endian float32.</summary>
internal static partial class TestNpy
{
    public static (byte[] Data, int[] Shape) ReadBytes(string path) => Read<byte>(path, "|u1");

    public static (float[] Data, int[] Shape) ReadFloats(string path) => Read<float>(path, "<f4");

    private static (T[] Data, int[] Shape) Read<T>(string path, string descr) where T : unmanaged
    {
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < 10 || file[0] != 0x93 || Encoding.ASCII.GetString(file, 1, 5) != "NUMPY")
            throw new InvalidDataException($"{path}: not an .npy file");
        int headerLength = file[8] | file[9] << 8;
        string header = Encoding.ASCII.GetString(file, 10, headerLength);
        if (!header.Contains($"'descr': '{descr}'", StringComparison.Ordinal) || !header.Contains("'fortran_order': False", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: expected C-order {descr}, header {header}");
        int[] shape = ShapePattern().Match(header).Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        int count = shape.Aggregate(1, (a, b) => a * b);
        var data = new T[count];
        var payload = file.AsSpan(10 + headerLength);
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(payload)[..count].CopyTo(data);
        return (data, shape);
    }

    [GeneratedRegex(@"'shape': \(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
