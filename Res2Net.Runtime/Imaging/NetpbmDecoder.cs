namespace Res2Net.Runtime.Imaging;

/// <summary>
/// PPM and PGM files (Netpbm P2, P3, P5, P6) decoded as OpenCV 4.6's PxM reader (<c>grfmt_pxm.cpp</c>) does with
/// <c>IMREAD_COLOR</c>. Its quirks are kept, because mmpretrain sees them:
/// <list type="bullet">
/// <item>binary samples are taken as they are: 8-bit bytes are not scaled to <c>maxval</c> (nor clamped to it), and
/// 16-bit samples (maxval above 255) keep their high byte, whatever maxval is;</item>
/// <item>ASCII samples are clamped to maxval, then scaled to <c>v * 255 / maxval</c> (integer division) when maxval is
/// at most 255, or cut to their high byte when it is larger;</item>
/// <item>every number is read with the byte after it, so an ASCII file whose last sample ends the file is refused,
/// as is a binary file shorter than its pixels.</item>
/// </list>
/// Grey (P2, P5) is replicated to three channels. PBM bitmaps (P1, P4) are not read.
/// </summary>
internal static class NetpbmDecoder
{
    /// <summary>OpenCV's signature test: 'P', a digit 1-6, then white space.</summary>
    public static bool IsNetpbm(ReadOnlySpan<byte> f) => f.Length >= 3 && f[0] == 'P' && f[1] is >= (byte)'1' and <= (byte)'6' && IsSpace(f[2]);

    /// <summary>Decodes a file that <see cref="IsNetpbm"/> accepted, checking its size against <see cref="ImageLimits"/> first.</summary>
    public static unsafe BufferedImage Decode(ReadOnlySpan<byte> f, string displayName, DecodeBudget budget)
    {
        char kind = (char)f[1];
        if (kind is '1' or '4')
            throw new ImageDecodeException(displayName, "PBM bitmaps (P1, P4) are not supported; use PGM, PPM, PNG or another format");
        bool binary = kind >= '4', colour = kind is '3' or '6';
        var reader = new Reader(f, 2, displayName);
        int width = reader.Number("width"), height = reader.Number("height"), maxval = reader.Number("maxval");
        if (maxval > 65535)
            throw new ImageDecodeException(displayName, $"maxval {maxval} is above 65535, the largest Netpbm allows");
        if (width <= 0 || height <= 0 || maxval <= 0)
            throw new ImageDecodeException(displayName, $"invalid image size {width}x{height} (maxval {maxval})");
        ImageLimits.Check(displayName, width, height);

        int channels = colour ? 3 : 1, sampleBytes = maxval > 255 ? 2 : 1;
        long samples = (long)width * height * channels;
        if (binary && f.Length - reader.Position < samples * sampleBytes)
            throw new ImageDecodeException(displayName, "the Netpbm data ends early (the file is truncated)");

        var image = BufferedImage.Allocate(width, height, 3, budget);
        try
        {
            byte* d = image.Data;
            long pixels = (long)width * height;
            if (binary)
            {
                // 16-bit samples are big-endian: the high byte comes first.
                ReadOnlySpan<byte> body = f[reader.Position..];
                for (long i = 0, s = 0; i < pixels; i++, d += 3)
                {
                    for (int c = 0; c < 3; c++)
                    {
                        d[c] = body[(int)((s + (colour ? c : 0)) * sampleBytes)];
                    }
                    s += channels;
                }
            }
            else
            {
                byte[]? scale = maxval <= 255 ? Enumerable.Range(0, maxval + 1).Select(v => (byte)(v * 255 / maxval)).ToArray() : null;
                for (long i = 0; i < pixels; i++, d += 3)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        int v = Math.Min(reader.Number("sample"), maxval);
                        d[c] = scale != null ? scale[v] : (byte)(v >> 8);
                    }
                    if (!colour) d[1] = d[2] = d[0];
                }
            }
        }
        catch
        {
            image.Dispose();
            throw;
        }
        return image;
    }

    // C's isspace in the "C" locale.
    private static bool IsSpace(int c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>OpenCV's <c>ReadNumber</c>: skips white space and '#' comments, reads digits, and consumes the byte after them.</summary>
    private ref struct Reader(ReadOnlySpan<byte> file, int position, string displayName)
    {
        private readonly ReadOnlySpan<byte> _file = file;
        private int _position = position;

        public readonly int Position => _position;

        public int Number(string what)
        {
            int code = Next();
            while (!char.IsAsciiDigit((char)code))
            {
                if (code == '#')
                {
                    do code = Next();
                    while (code != '\n' && code != '\r');
                    code = Next();
                }
                else if (IsSpace(code))
                {
                    while (IsSpace(code)) code = Next();
                }
                else
                {
                    string found = code is >= 0x21 and < 0x7F ? $"'{(char)code}'" : $"byte 0x{code:X2}";
                    throw new ImageDecodeException(displayName, $"malformed Netpbm header or data: expected the {what}, found {found}");
                }
            }
            long value = 0;
            do
            {
                value = value * 10 + (code - '0');
                if (value > int.MaxValue)
                    throw new ImageDecodeException(displayName, $"the Netpbm {what} is too large");
                code = Next();
            }
            while (char.IsAsciiDigit((char)code));
            return (int)value;
        }

        private int Next()
        {
            if (_position >= _file.Length)
                throw new ImageDecodeException(displayName, "the Netpbm data ends early (the file is truncated)");
            return _file[_position++];
        }
    }
}
